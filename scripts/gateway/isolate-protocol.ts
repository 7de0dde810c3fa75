/**
 * What the gateway and an isolate process say to each other besides the
 * proxied HTTP requests. The gateway writes commands to the isolate's stdin,
 * one JSON object per line; the isolate writes reports to its stdout as lines
 * starting with REPORT_MARKER, among the function's own output, which the
 * gateway passes through untouched. The isolate exits when its stdin closes,
 * so it never outlives the gateway, however the gateway ended.
 * Free of Deno.* and node:* (both sides import it).
 */
import type { BeforeunloadReason } from "./platform.ts";

export const REPORT_MARKER = "\u001e@edge-isolate ";

/** Environment the gateway sets for an isolate's host; the host removes it before the function loads. */
export const ISOLATE_ENV = {
  id: "EDGE_ISOLATE_ID",
  fn: "EDGE_ISOLATE_FUNCTION",
  entry: "EDGE_ISOLATE_ENTRY",
  token: "EDGE_ISOLATE_TOKEN",
  bootTimeoutMs: "EDGE_ISOLATE_BOOT_TIMEOUT_MS",
  gatewayUrl: "EDGE_ISOLATE_GATEWAY_URL",
} as const;

/** Headers on a proxied request; the host takes them off before the function sees it. */
export const PROXY_HEADERS = {
  token: "x-edge-isolate-token",
  /** The origin the client called, so the function sees the URL it would see on the gateway. */
  origin: "x-edge-origin",
  /** The client's accept-encoding: the hop itself is uncompressed. */
  acceptEncoding: "x-edge-accept-encoding",
} as const;

export interface MemoryReport {
  /** V8 used heap + external memory: what the runtime counts against the limit. */
  heap: number;
  external: number;
  rss: number;
}

export type IsolateReport =
  | { t: "ready"; port: number; bootMs: number; memory: MemoryReport }
  | { t: "boot_error"; error: string }
  /** Sent when asked, never on a timer: an idle isolate stays asleep. */
  | { t: "memory"; memory: MemoryReport }
  | { t: "tasks"; pending: number }
  /** Answer to `drop` when background work or a request arrived meanwhile. */
  | { t: "busy"; pending: number; inFlight: number };

export type IsolateCommand =
  | { cmd: "beforeunload"; reason: BeforeunloadReason }
  /** Answered with a `memory` report. */
  | { cmd: "report" }
  /** Early drop: dispatch `beforeunload` (early_drop) and exit, unless busy after all. */
  | { cmd: "drop" };

export function encodeReport(report: IsolateReport): string {
  return `${REPORT_MARKER}${JSON.stringify(report)}`;
}

/**
 * Splits one stdout line into the function's output (passed through) and a
 * report. A marker may follow output that did not end its line.
 */
export function parseOutputLine(line: string): { output: string | null; report: IsolateReport | null } {
  const i = line.indexOf(REPORT_MARKER);
  if (i < 0) return { output: line, report: null };
  let report: IsolateReport | null = null;
  try {
    report = JSON.parse(line.slice(i + REPORT_MARKER.length)) as IsolateReport;
  } catch {
    return { output: line, report: null };
  }
  return { output: i > 0 ? line.slice(0, i) : null, report };
}
