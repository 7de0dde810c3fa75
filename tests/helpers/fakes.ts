/**
 * In-memory stand-ins for the handlers' dependencies, for the unit tier: a
 * queue that records every transition it is asked for (and can be told to
 * lose the lease or fail), a logger that keeps its lines, and slices.
 */
import type { BarPage, BarRow, BarsQuery } from "../../supabase/functions/_shared/alpaca/types.ts";
import { LeaseLostError, type Claim } from "../../supabase/functions/_shared/db.ts";
import type { FailureKind } from "../../supabase/functions/_shared/errors.ts";
import type { FailOptions, JobQueue } from "../../supabase/functions/_shared/job-queue.ts";
import type { Logger, LogFields } from "../../supabase/functions/_shared/log.ts";
import type { BatchSlice, ClaimedRunRow, SingleSlice } from "../../supabase/functions/_shared/slice.ts";

export type QueueCall =
  | { op: "savePage"; claim: Claim; bars: number; next: string | null; completeAs: string | null }
  | { op: "complete"; claim: Claim; handledBy: string }
  | { op: "fail"; claim: Claim; kind: FailureKind; message: string; opts: FailOptions }
  | { op: "handBack"; claim: Claim; reason: string; handledBy: string };

export interface FakeQueue extends JobQueue {
  calls: QueueCall[];
  /** Rows the next claim returns (then emptied). */
  claimable: ClaimedRunRow[];
  running: number;
  expired: number;
  /** savePage throws LeaseLostError from this page number on (1-based). */
  loseLeaseAtPage?: number;
  /** What complete() answers. */
  completeResult: boolean;
  /** What fail() answers, or an error it throws. */
  failResult: string | null | Error;
  /** What handBack() answers. */
  handBackResult: string | null;
  claimedWith?: { worker: string; limit: number; leaseSeconds: number };
}

export function fakeQueue(over: Partial<FakeQueue> = {}): FakeQueue {
  const q: FakeQueue = {
    calls: [],
    claimable: [],
    running: 0,
    expired: 0,
    completeResult: true,
    failResult: "queued",
    handBackResult: "queued",
    requeueExpired: () => Promise.resolve(q.expired),
    countRunning: () => Promise.resolve(q.running),
    claim: (worker, limit, leaseSeconds) => {
      q.claimedWith = { worker, limit, leaseSeconds };
      const rows = q.claimable.slice(0, limit).map((r) => ({ ...r, locked_by: worker }));
      q.claimable = [];
      return Promise.resolve(rows);
    },
    savePage: (claim, _timeframe, bars, next, _lease, completeAs) => {
      const page = q.calls.filter((c) => c.op === "savePage").length + 1;
      if (q.loseLeaseAtPage !== undefined && page >= q.loseLeaseAtPage) return Promise.reject(new LeaseLostError("lease lost"));
      q.calls.push({ op: "savePage", claim, bars: bars.length, next, completeAs });
      return Promise.resolve(bars.length);
    },
    complete: (claim, handledBy) => {
      q.calls.push({ op: "complete", claim, handledBy });
      return Promise.resolve(q.completeResult);
    },
    fail: (claim, kind, message, opts = {}) => {
      q.calls.push({ op: "fail", claim, kind, message, opts });
      return q.failResult instanceof Error ? Promise.reject(q.failResult) : Promise.resolve(q.failResult);
    },
    handBack: (claim, reason, handledBy) => {
      q.calls.push({ op: "handBack", claim, reason, handledBy });
      // Once handed back the run is no longer held: later writes by the slice are refused.
      q.loseLeaseAtPage = q.calls.filter((c) => c.op === "savePage").length + 1;
      q.completeResult = false;
      q.failResult = null;
      return Promise.resolve(q.handBackResult);
    },
    ...over,
  };
  return q;
}

export interface LogLine extends LogFields {
  level: "info" | "warn" | "error" | "debug";
  event: string;
}

export function memoryLogger(): Logger & { lines: LogLine[] } {
  const lines: LogLine[] = [];
  const at = (level: LogLine["level"]) => (event: string, fields: LogFields = {}) => void lines.push({ level, event, ...fields });
  return { lines, info: at("info"), warn: at("warn"), error: at("error"), debug: at("debug") };
}

export function bar(symbol: string, ts: string): BarRow {
  return { symbol, timeframe: "1Min", ts, open: 1, high: 2, low: 0.5, close: 1.5, volume: 100, trade_count: 3, vwap: 1.2 };
}

/** A page source of `pageCount` pages of `perPage` bars that resumes from a `p<N>` token; it records every query. */
export function pagesOf(pageCount: number, perPage = 2) {
  const queries: BarsQuery[] = [];
  const source = async function* (q: BarsQuery): AsyncIterable<BarPage> {
    queries.push(q);
    let page = q.pageToken ? Number(q.pageToken.slice(1)) : 0;
    for (; page < pageCount; page++) {
      const next = page + 1 < pageCount ? `p${page + 1}` : null;
      const bars = Array.from({ length: perPage }, (_, i) => bar(q.symbols[0]!, `2024-01-02T14:${String(page).padStart(2, "0")}:${String(i).padStart(2, "0")}Z`));
      yield { bars, nextPageToken: next, pageToken: page === 0 ? null : `p${page}` };
    }
  };
  return { source, queries };
}

const SLICE_COMMON = {
  runId: "41",
  jobDefId: "7",
  attempt: 2,
  worker: "orchestrator:test",
  timeframe: "1Min",
  feed: "sip",
  adjustment: "raw",
  sliceStart: "2024-01-02T00:00:00.000Z",
  sliceEnd: "2024-01-04T00:00:00.000Z",
  pageToken: null,
} as const;

export const singleSlice = (over: Partial<SingleSlice> = {}): SingleSlice =>
  ({ ...SLICE_COMMON, kind: "single", symbol: "AAPL", ...over });

export const batchSlice = (over: Partial<BatchSlice> = {}): BatchSlice =>
  ({ ...SLICE_COMMON, kind: "batch", name: "US_BATCH_1", symbols: ["AAPL", "MSFT"], ...over });

export function claimedRow(over: Partial<ClaimedRunRow> = {}): ClaimedRunRow {
  return {
    run_id: "41", job_def_id: "7", kind: "batch", name: "US_BATCH_1", symbols: ["AAPL", "MSFT"], timeframe: "1Min",
    feed: "sip", adjustment: "raw", slice_start: new Date("2024-01-02Z"), slice_end: new Date("2024-01-04Z"),
    attempt: 1, page_token: null, locked_by: "", ...over,
  };
}
