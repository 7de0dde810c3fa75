/**
 * What the local functions gateway promises callers, written once and kept
 * free of Deno.* and node:* so both the Deno gateway and vitest import it.
 *
 * Shapes follow Supabase's main worker (CLI `functions/serve/templates/main.ts`)
 * and the hosted status-code table (docs functions/status-codes.mdx): every
 * error the gateway itself produces is JSON `{code, message}` and carries the
 * code in an `sb-error-code` header. Responses produced by a function pass
 * through untouched.
 */
import { constantTimeEqual } from "../../supabase/functions/_shared/auth.ts";

export const FUNCTIONS_PREFIX = "/functions/v1";
export const HEALTH_PATHS: readonly string[] = ["/_internal/health", `${FUNCTIONS_PREFIX}/_internal/health`];

/** Methods the platform forwards; anything else is 405 before routing. */
export const ALLOWED_METHODS: readonly string[] = ["POST", "GET", "PUT", "PATCH", "DELETE", "OPTIONS"];

/** A directory under the functions dir is a function when named like this and not `_`-prefixed. */
export const FUNCTION_NAME = /^[A-Za-z0-9][A-Za-z0-9_-]*$/;

export interface GatewayError {
  status: number;
  code: string;
  message: string;
}

export const ERRORS = {
  notFound: { status: 404, code: "NOT_FOUND", message: "Function not found" },
  noRoute: { status: 404, code: "NOT_FOUND", message: "no Route matched with those values" },
  methodNotAllowed: { status: 405, code: "METHOD_NOT_ALLOWED", message: "Method not allowed" },
  noAuthHeader: { status: 401, code: "UNAUTHORIZED_NO_AUTH_HEADER", message: "Missing authorization header" },
  invalidJwtFormat: { status: 401, code: "UNAUTHORIZED_INVALID_JWT_FORMAT", message: "Invalid JWT" },
  invalidJwt: { status: 401, code: "UNAUTHORIZED_LEGACY_JWT", message: "Invalid JWT" },
  bootError: { status: 503, code: "BOOT_ERROR", message: "Worker failed to boot (please check logs)" },
  workerError: { status: 500, code: "WORKER_ERROR", message: "Function exited due to an error (please check logs)" },
  workerLimit: {
    status: 546,
    code: "WORKER_LIMIT",
    message: "Worker failed to respond due to a resource limit (please check logs)",
  },
  shuttingDown: { status: 503, code: "SHUTTING_DOWN", message: "Gateway is shutting down" },
} as const satisfies Record<string, GatewayError>;

/**
 * Why an isolate ended. The first six are the Edge Runtime's `ShutdownReason`s;
 * `BootFailure` (its boot-failure event) and `Crashed` (the process exited
 * without being asked: a crash, or a signal from outside) are this gateway's.
 */
export const SHUTDOWN_REASONS = [
  "EventLoopCompleted",
  "WallClockTime",
  "CPUTime",
  "Memory",
  "EarlyDrop",
  "TerminationRequested",
  "BootFailure",
  "Crashed",
] as const;
export type ShutdownReason = typeof SHUTDOWN_REASONS[number];

/** `event.detail.reason` of a `beforeunload` event, as the Edge Runtime spells it. */
export type BeforeunloadReason = "cpu" | "memory" | "wall_clock" | "early_drop" | "termination";

export interface IsolateTally {
  started: number;
  retired: number;
  /** Isolates that ended, by reason. */
  shutdown: Partial<Record<ShutdownReason, number>>;
}

export interface FunctionHealth {
  name: string;
  /** The outcome of the function's latest boot; `not_started` before its first request. */
  status: "not_started" | "ready" | "boot_error";
  error?: string;
  /** Live isolates: `active` takes new requests (0 or 1), `retired` only finish their work. */
  isolates: { active: number; retired: number };
  tally: IsolateTally;
}

/** What `/_internal/health` answers. */
export interface GatewayHealth {
  status: "ok" | "shutting_down";
  /** The runtime the isolates run, e.g. "deno 2.1.4". */
  isolate_runtime: string;
  limits: {
    wall_clock_ms: number;
    cpu_soft_ms: number;
    cpu_hard_ms: number;
    memory_mb: number;
    beforeunload_ratio: number;
  };
  functions: FunctionHealth[];
  /** Totals over every function. */
  isolates: IsolateTally & { running: number };
}

export function errorResponse(err: GatewayError, extraHeaders: Record<string, string> = {}): Response {
  return new Response(JSON.stringify({ code: err.code, message: err.message }), {
    status: err.status,
    headers: { "content-type": "application/json", "sb-error-code": err.code, ...extraHeaders },
  });
}

export type Route =
  | { kind: "health" }
  | { kind: "function"; name: string; /** path the function sees: `/<name>/...` */ functionPath: string }
  | { kind: "none" };

/** `/functions/v1/<name>/rest` → the function `<name>` sees `/<name>/rest` (the prefix is stripped, as Kong does). */
export function routeOf(pathname: string): Route {
  if (HEALTH_PATHS.includes(pathname)) return { kind: "health" };
  if (!pathname.startsWith(`${FUNCTIONS_PREFIX}/`)) return { kind: "none" };
  const functionPath = pathname.slice(FUNCTIONS_PREFIX.length);
  const name = functionPath.split("/")[1] ?? "";
  return { kind: "function", name, functionPath };
}

/** The credentials a request presents: the `apikey` header and an `Authorization: Bearer` token. */
export function presentedKeys(headers: Headers): string[] {
  const keys: string[] = [];
  const apikey = headers.get("apikey")?.trim();
  if (apikey) keys.push(apikey);
  const match = /^Bearer\s+(.+)$/i.exec(headers.get("authorization")?.trim() ?? "");
  if (match?.[1]) keys.push(match[1].trim());
  return keys;
}

/**
 * null when one presented credential equals one accepted key; otherwise the 401
 * to answer. Every pair is compared, with no short-circuit.
 */
export function checkKey(headers: Headers, accepted: readonly string[]): GatewayError | null {
  const presented = presentedKeys(headers);
  if (presented.length === 0) return ERRORS.noAuthHeader;
  let ok = false;
  for (const p of presented) for (const k of accepted) ok = constantTimeEqual(p, k) || ok;
  if (ok) return null;
  const looksLikeJwt = presented.some((p) => p.split(".").length === 3);
  return looksLikeJwt ? ERRORS.invalidJwt : ERRORS.invalidJwtFormat;
}

/**
 * `verify_jwt` per function from a Supabase `config.toml` (`[functions.<name>]`
 * sections). Only that key is read; a function without a section is verified.
 */
export function parseVerifyJwt(toml: string): Map<string, boolean> {
  const out = new Map<string, boolean>();
  let current: string | null = null;
  for (const raw of toml.split(/\r?\n/)) {
    const line = raw.trim();
    if (line.startsWith("[")) {
      const m = /^\[\s*functions\.(?:"([^"]+)"|([A-Za-z0-9_-]+))\s*\]\s*(#.*)?$/.exec(line);
      current = m ? (m[1] ?? m[2] ?? null) : null;
      continue;
    }
    if (current === null) continue;
    const kv = /^verify_jwt\s*=\s*(true|false)\s*(#.*)?$/.exec(line);
    if (kv) out.set(current, kv[1] === "true");
  }
  return out;
}

/** Boolean env parsing shared by the gateway config: unset → fallback. */
export function envFlag(value: string | undefined, fallback: boolean): boolean {
  if (value === undefined || value.trim() === "") return fallback;
  const v = value.trim().toLowerCase();
  if (["0", "false", "no", "off"].includes(v)) return false;
  if (["1", "true", "yes", "on"].includes(v)) return true;
  throw new Error(`expected a boolean (true/false), got ${JSON.stringify(value)}`);
}

/** The line tests and the spawn helper wait for. */
export const READY_LINE_PREFIX = "functions gateway listening on ";
