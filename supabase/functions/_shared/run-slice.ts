/**
 * Runs one claimed slice: pages through Alpaca from the slice's checkpoint,
 * stores each page together with the next checkpoint, and ends the run with
 * exactly one guarded transition (complete or fail). A worker that lost its
 * claim stops without touching the run.
 */
import { LeaseLostError, type Claim } from "./db.ts";
import { RateLimitedError, toJobError } from "./errors.ts";
import type { JobQueue } from "./job-queue.ts";
import { kindOf, routeFor, sliceLogFields } from "./kinds.ts";
import type { Logger, LogFields } from "./log.ts";
import type { Slice } from "./slice.ts";
import type { BarPage, BarsQuery } from "./alpaca/types.ts";

export type PageSource = (query: BarsQuery) => AsyncIterable<BarPage>;

export interface SliceDeps {
  queue: JobQueue;
  log: Logger;
  pages: PageSource;
  leaseSeconds: number;
  sleep: (ms: number) => Promise<void>;
  now: () => number;
  /** Masks secrets in error messages before they are stored. */
  redact: (text: string) => string;
}

/** `unrecorded`: the failure could not be written (database unreachable); the lease will expire and requeue it. */
export type SliceOutcome = "success" | "retry" | "failed" | "rate_limited" | "lease_lost" | "unrecorded";

/** 429s are waited out in place this many times before the run is handed back to the queue. */
const RATE_LIMIT_WAITS = 3;
const PAGE_LIMIT = 10_000;

/** Alpaca's `end` is inclusive; a slice is [start, end). Bars start on whole seconds. */
function inclusiveEnd(sliceEnd: string): string {
  return new Date(Date.parse(sliceEnd) - 1).toISOString();
}

export async function runSlice(slice: Slice, deps: SliceDeps): Promise<SliceOutcome> {
  const started = deps.now();
  const fn = routeFor(slice);
  const kind = kindOf(slice);
  const claim: Claim = { runId: slice.runId, worker: slice.worker, attempt: slice.attempt };
  const fields = sliceLogFields(slice);
  let pageToken = slice.pageToken;
  let pages = 0;
  let bars = 0;
  let waits = 0;
  const done = (outcome: SliceOutcome, extra: LogFields = {}) => {
    const line = { ...fields, pages, bars, duration_ms: deps.now() - started, outcome, ...extra };
    (outcome === "success" ? deps.log.info : deps.log.warn)("slice_finished", line);
    return outcome;
  };

  for (;;) {
    try {
      const query: BarsQuery = {
        symbols: kind.symbols(slice),
        timeframe: slice.timeframe,
        start: slice.sliceStart,
        end: inclusiveEnd(slice.sliceEnd),
        feed: slice.feed,
        adjustment: slice.adjustment,
        limit: PAGE_LIMIT,
        pageToken,
        endpoint: kind.endpoint,
      };
      let completed = false;
      for await (const page of deps.pages(query)) {
        // The last page completes the run in the same transaction as its bars.
        const last = page.nextPageToken === null;
        bars += await deps.queue.savePage(claim, slice.timeframe, page.bars, page.nextPageToken, deps.leaseSeconds,
          last ? fn : null);
        pages++;
        pageToken = page.nextPageToken;
        completed = last;
      }
      if (!completed) completed = await deps.queue.complete(claim, fn);
      return done(completed ? "success" : "lease_lost");
    } catch (err) {
      if (err instanceof LeaseLostError) return done("lease_lost");
      const jobError = toJobError(err);
      if (jobError instanceof RateLimitedError && waits < RATE_LIMIT_WAITS) {
        // Alpaca sends no Retry-After; the bucket refills continuously, so a short wait suffices.
        waits++;
        await deps.sleep(jobError.retryAfterMs ?? 1000 * 2 ** waits);
        continue;
      }
      const message = deps.redact(jobError.message);
      let status: string | null;
      try {
        status = await deps.queue.fail(claim, jobError.kind, message, {
          retryAfterMs: jobError instanceof RateLimitedError ? jobError.retryAfterMs : undefined,
          handledBy: fn,
        });
      } catch (recordErr) {
        return done("unrecorded", { error: message, record_error: deps.redact((recordErr as Error).message) });
      }
      if (status === null) return done("lease_lost", { error: message });
      const outcome: SliceOutcome = jobError.kind === "rate_limited" ? "rate_limited" : status === "failed" ? "failed" : "retry";
      return done(outcome, { error: message, http_status: jobError.status });
    }
  }
}
