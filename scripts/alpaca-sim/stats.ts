/** What the simulator served, for tests and benchmarks to assert on. */
import type { FaultMode } from "./faults.ts";

export type Endpoint = "multi" | "single";

export interface RequestRecord {
  endpoint: Endpoint;
  status: number;
  /** Symbols as requested (multi: the `symbols` list; single: the path symbol). */
  symbols: string[];
  bars: number;
  pageToken?: string;
  fault?: FaultMode;
  /** The response was gzipped (the request accepted gzip). */
  gzip?: boolean;
  /** Bytes of the request line (method, target, version), the quantity nginx caps. */
  requestLineBytes?: number;
}

export interface SimStats {
  requests: number;
  byEndpoint: Record<Endpoint, number>;
  byStatus: Record<number, number>;
  barsServed: number;
  /** Every 429, real or injected. */
  rateLimited: number;
  faults: Partial<Record<FaultMode, number>>;
  /** One entry per request, oldest first (capped at MAX_LOG; `requests` keeps counting). */
  log: RequestRecord[];
}

const MAX_LOG = 100_000;

export function emptyStats(): SimStats {
  return { requests: 0, byEndpoint: { multi: 0, single: 0 }, byStatus: {}, barsServed: 0, rateLimited: 0, faults: {}, log: [] };
}

export function record(stats: SimStats, r: RequestRecord): void {
  stats.requests++;
  stats.byEndpoint[r.endpoint]++;
  stats.byStatus[r.status] = (stats.byStatus[r.status] ?? 0) + 1;
  stats.barsServed += r.bars;
  if (r.status === 429) stats.rateLimited++;
  if (r.fault) stats.faults[r.fault] = (stats.faults[r.fault] ?? 0) + 1;
  if (stats.log.length < MAX_LOG) stats.log.push(r);
}

/** A deep copy, so callers can keep a snapshot while the server runs on. */
export function snapshot(stats: SimStats): SimStats {
  return structuredClone(stats);
}
