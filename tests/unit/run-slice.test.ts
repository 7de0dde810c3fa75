/**
 * The slice runner with fake dependencies: which single transition ends a
 * run for each way a slice can go, what it stores on the way, and that a
 * worker which lost its claim touches nothing.
 */
import { describe, expect, it } from "vitest";
import type { BarPage, BarsQuery } from "../../supabase/functions/_shared/alpaca/types.ts";
import { PermanentError, RateLimitedError, RetryableError } from "../../supabase/functions/_shared/errors.ts";
import { unlimitedBudget } from "../../supabase/functions/_shared/isolate-budget.ts";
import { runSlice, type SliceDeps } from "../../supabase/functions/_shared/run-slice.ts";
import { batchSlice, fakeQueue, memoryLogger, pagesOf, singleSlice, type FakeQueue } from "../helpers/fakes.ts";

function deps(queue: FakeQueue, pages: SliceDeps["pages"], over: Partial<SliceDeps> = {}) {
  const sleeps: number[] = [];
  const log = memoryLogger();
  let clock = 1_000;
  const d: SliceDeps = {
    queue,
    log,
    pages,
    budget: unlimitedBudget(),
    leaseSeconds: 180,
    sleep: (ms) => {
      sleeps.push(ms);
      return Promise.resolve();
    },
    now: () => (clock += 5),
    redact: (t) => t.replaceAll("s3cret", "[REDACTED]"),
    ...over,
  };
  return { d, sleeps, log };
}

/** A source that throws `errors` in turn (one per call), then serves `then`. */
function failingThen(errors: Error[], then: SliceDeps["pages"]) {
  let calls = 0;
  return async function* (q: BarsQuery): AsyncIterable<BarPage> {
    if (calls < errors.length) throw errors[calls++]!;
    yield* then(q);
  };
}

describe("runSlice", () => {
  it("stores every page with its checkpoint and completes the run with the last page, in one call", async () => {
    const queue = fakeQueue();
    const { source, queries } = pagesOf(3);
    const { d, log } = deps(queue, source);
    expect(await runSlice(batchSlice(), d)).toBe("success");
    expect(queue.calls).toEqual([
      expect.objectContaining({ op: "savePage", next: "p1", completeAs: null, bars: 2 }),
      expect.objectContaining({ op: "savePage", next: "p2", completeAs: null }),
      expect.objectContaining({ op: "savePage", next: null, completeAs: "fetch-bars-batch" }),
    ]);
    expect(queries).toHaveLength(1);
    expect(queries[0]).toMatchObject({
      symbols: ["AAPL", "MSFT"], endpoint: "multi", limit: 10_000, pageToken: null,
      start: "2024-01-02T00:00:00.000Z", end: "2024-01-03T23:59:59.999Z",
    });
    expect(log.lines.at(-1)).toMatchObject({ event: "slice_finished", outcome: "success", pages: 3, bars: 6, batch: "US_BATCH_1", batch_size: 2 });
  });

  it("asks the single endpoint for a single, resuming from the slice's checkpoint", async () => {
    const queue = fakeQueue();
    const { source, queries } = pagesOf(3);
    const { d } = deps(queue, source);
    expect(await runSlice(singleSlice({ pageToken: "p2" }), d)).toBe("success");
    expect(queries[0]).toMatchObject({ symbols: ["AAPL"], endpoint: "single", pageToken: "p2" });
    expect(queue.calls).toEqual([expect.objectContaining({ op: "savePage", next: null, completeAs: "fetch-bars" })]);
  });

  it("completes a run that has no pages left through complete(), guarded by the claim", async () => {
    const queue = fakeQueue();
    const { d } = deps(queue, pagesOf(0).source);
    expect(await runSlice(singleSlice(), d)).toBe("success");
    expect(queue.calls).toEqual([{ op: "complete", claim: { runId: "41", worker: "orchestrator:test", attempt: 2 }, handledBy: "fetch-bars" }]);
  });

  it("reports a lost lease when complete() finds the claim gone", async () => {
    const queue = fakeQueue({ completeResult: false });
    const { d } = deps(queue, pagesOf(0).source);
    expect(await runSlice(singleSlice(), d)).toBe("lease_lost");
  });

  it("stops at a lost lease mid-slice and records no failure", async () => {
    const queue = fakeQueue({ loseLeaseAtPage: 2 });
    const { d, log } = deps(queue, pagesOf(3).source);
    expect(await runSlice(batchSlice(), d)).toBe("lease_lost");
    expect(queue.calls.map((c) => c.op)).toEqual(["savePage"]);
    expect(log.lines.at(-1)).toMatchObject({ outcome: "lease_lost", pages: 1 });
  });

  it("waits out 429s in place, using Alpaca's delay when it gave one, and resumes from the last stored page", async () => {
    const queue = fakeQueue();
    const { source, queries } = pagesOf(2);
    const pages = failingThen([new RateLimitedError("429", { retryAfterMs: 2_500 }), new RateLimitedError("429")], source);
    const { d, sleeps } = deps(queue, async function* (q) { queries.push(q); yield* pages(q); });
    expect(await runSlice(singleSlice(), d)).toBe("success");
    expect(sleeps).toEqual([2_500, 4_000]);
    expect(queue.calls.filter((c) => c.op === "fail")).toEqual([]);
  });

  it("hands the run back as rate limited after three waits, without using an attempt", async () => {
    const queue = fakeQueue({ failResult: "queued" });
    const errors = Array.from({ length: 4 }, () => new RateLimitedError("429 too many", { status: 429, retryAfterMs: 700 }));
    const { d, sleeps, log } = deps(queue, failingThen(errors, pagesOf(1).source));
    expect(await runSlice(singleSlice(), d)).toBe("rate_limited");
    expect(sleeps).toEqual([700, 700, 700]);
    expect(queue.calls).toEqual([expect.objectContaining({
      op: "fail", kind: "rate_limited", message: "429 too many", opts: { retryAfterMs: 700, handledBy: "fetch-bars" },
    })]);
    expect(log.lines.at(-1)).toMatchObject({ level: "warn", outcome: "rate_limited", http_status: 429 });
  });

  it("defers the run at once when Alpaca asks for a wait longer than five seconds", async () => {
    const queue = fakeQueue({ failResult: "queued" });
    const { d, sleeps } = deps(queue, failingThen([new RateLimitedError("429", { status: 429, retryAfterMs: 20_000 })], pagesOf(1).source));
    expect(await runSlice(singleSlice(), d)).toBe("rate_limited");
    expect(sleeps).toEqual([]);
    expect(queue.calls).toEqual([expect.objectContaining({ op: "fail", kind: "rate_limited", opts: { retryAfterMs: 20_000, handledBy: "fetch-bars" } })]);
  });

  it("keeps the pages it stored before a retryable failure and records it with the secret masked", async () => {
    const queue = fakeQueue({ failResult: "queued" });
    let served = 0;
    const pages = async function* (q: BarsQuery): AsyncIterable<BarPage> {
      for await (const p of pagesOf(3).source(q)) {
        if (served++ === 1) throw new RetryableError("upstream 503 with key s3cret", { status: 503 });
        yield p;
      }
    };
    const { d } = deps(queue, pages);
    expect(await runSlice(batchSlice(), d)).toBe("retry");
    expect(queue.calls.map((c) => c.op)).toEqual(["savePage", "fail"]);
    expect(queue.calls[1]).toMatchObject({ kind: "retryable", message: "upstream 503 with key [REDACTED]", opts: { handledBy: "fetch-bars-batch" } });
  });

  it("says failed when the retryable failure used the last attempt, and for a permanent error", async () => {
    for (const [error, kind] of [[new RetryableError("reset"), "retryable"], [new PermanentError("422 bad symbol"), "permanent"]] as const) {
      const queue = fakeQueue({ failResult: "failed" });
      const { d } = deps(queue, failingThen([error], pagesOf(1).source));
      expect(await runSlice(singleSlice(), d)).toBe("failed");
      expect(queue.calls).toEqual([expect.objectContaining({ op: "fail", kind })]);
    }
  });

  it("treats an unknown thrown value as retryable", async () => {
    const queue = fakeQueue();
    const { d } = deps(queue, failingThen([new TypeError("fetch failed")], pagesOf(1).source));
    expect(await runSlice(singleSlice(), d)).toBe("retry");
    expect(queue.calls[0]).toMatchObject({ op: "fail", kind: "retryable", message: "fetch failed" });
  });

  it("reports a lost lease when the failure finds the claim gone", async () => {
    const queue = fakeQueue({ failResult: null });
    const { d } = deps(queue, failingThen([new RetryableError("reset")], pagesOf(1).source));
    expect(await runSlice(singleSlice(), d)).toBe("lease_lost");
  });

  it("reports a failure it could not record as unrecorded, masking secrets in both errors", async () => {
    const queue = fakeQueue({ failResult: new Error("connection to s3cret@db refused") });
    const { d, log } = deps(queue, failingThen([new RetryableError("boom s3cret")], pagesOf(1).source));
    expect(await runSlice(singleSlice(), d)).toBe("unrecorded");
    const last = log.lines.at(-1)!;
    expect(last).toMatchObject({ outcome: "unrecorded", error: "boom [REDACTED]", record_error: "connection to [REDACTED]@db refused" });
  });
});
