/**
 * Runs one claimed slice: pages through Alpaca from the slice's checkpoint,
 * stores each page together with the next checkpoint, and ends the run with
 * exactly one guarded transition: complete, fail, or hand back when the
 * isolate is about to be cut off. A worker that lost its claim stops without
 * touching the run.
 */
import { LeaseLostError, type Claim } from "./db.ts";
import { RateLimitedError, toJobError, type JobError } from "./errors.ts";
import type { IsolateBudget } from "./isolate-budget.ts";
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
  /** What is left of this isolate's life; shared by every slice it runs. */
  budget: IsolateBudget;
  leaseSeconds: number;
  sleep: (ms: number) => Promise<void>;
  now: () => number;
  /** Masks secrets in error messages before they are stored. */
  redact: (text: string) => string;
  /** Called once a run was handed back, so it is claimed again soon. */
  afterHandBack?: () => void;
}

/**
 * `handed_back`: given back before an isolate limit, to resume on the next
 * claim. `unrecorded`: the outcome could not be written (database
 * unreachable); the lease will expire and requeue the run.
 */
export type SliceOutcome = "success" | "retry" | "failed" | "rate_limited" | "handed_back" | "lease_lost" | "unrecorded";

/** 429s are waited out in place this many times before the run is handed back to the queue. */
const RATE_LIMIT_WAITS = 3;
/** Longest 429 delay waited out in place; longer ones defer the run. */
const MAX_WAIT_IN_PLACE_MS = 5_000;
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

  // If the isolate unloads while this slice holds the run, the run is handed
  // back from there; this slice's next write then finds the claim gone.
  let unloaded: string | null = null;
  const release = deps.budget.hold(async (reason) => {
    unloaded = reason;
    if (await deps.queue.handBack(claim, reason, fn) !== null) deps.afterHandBack?.();
  });
  const lost = (extra: LogFields = {}) =>
    unloaded === null ? done("lease_lost", extra) : done("handed_back", { reason: unloaded, ...extra });
  const handBack = async (reason: string): Promise<SliceOutcome> => {
    release();
    try {
      const status = await deps.queue.handBack(claim, reason, fn);
      if (status === null) return done("lease_lost");
      deps.afterHandBack?.();
      return done("handed_back", { reason, status });
    } catch (err) {
      return done("unrecorded", { reason, record_error: deps.redact((err as Error).message) });
    }
  };

  // A page granted by the budget and not yet stored; given back on every way out.
  let reserved = false;
  const reserve = () => {
    const reason = deps.budget.reservePage();
    reserved = reason === null;
    return reason;
  };
  try {
    for (;;) {
      if (unloaded !== null) return lost();
      const stop = reserve();
      if (stop !== null) return await handBack(stop);
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
          deps.budget.pageStored(page.bars.length);
          reserved = false;
          pages++;
          pageToken = page.nextPageToken;
          completed = last;
          const stopNow = last ? null : reserve();
          if (stopNow !== null) return unloaded === null ? await handBack(stopNow) : lost();
        }
        if (!completed) completed = await deps.queue.complete(claim, fn);
        return completed ? done("success") : lost();
      } catch (err) {
        if (reserved) deps.budget.pageAbandoned();
        reserved = false;
        if (err instanceof LeaseLostError) return lost();
        const jobError = toJobError(err);
        // A short wait is spent in place (the bucket refills continuously); a
        // longer one, as X-RateLimit-Reset may ask, would hold the isolate's
        // wall clock and the lease, so the run is deferred instead.
        if (jobError instanceof RateLimitedError && waits < RATE_LIMIT_WAITS &&
            (jobError.retryAfterMs ?? 0) <= MAX_WAIT_IN_PLACE_MS) {
          waits++;
          await deps.sleep(jobError.retryAfterMs ?? 1000 * 2 ** waits);
          continue;
        }
        return await recordFailure(jobError);
      }
    }
  } finally {
    if (reserved) deps.budget.pageAbandoned();
    release();
  }

  async function recordFailure(jobError: JobError): Promise<SliceOutcome> {
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
    if (status === null) return lost({ error: message });
    const outcome: SliceOutcome = jobError.kind === "rate_limited" ? "rate_limited" : status === "failed" ? "failed" : "retry";
    return done(outcome, { error: message, http_status: jobError.status });
  }
}
