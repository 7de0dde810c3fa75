/**
 * The workers' input contract on the real stack: a slice of the wrong shape or
 * kind is refused with 400 before any I/O.
 *
 * Elsewhere: the 401 for a missing or wrong key is in
 * tests/e2e/resilience/access.test.ts; concurrent ticks and the shared Alpaca
 * budget are in tests/e2e/resilience/concurrency.test.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startStack, type Stack } from "../../helpers/stack.ts";

let stack: Stack;
beforeAll(async () => {
  stack = await startStack();
});
afterAll(async () => {
  await stack?.stop();
});

const sliceBody = {
  runId: "1", jobDefId: "1", attempt: 1, worker: "orchestrator:x", timeframe: "1Min", feed: "sip", adjustment: "raw",
  sliceStart: "2024-03-04T00:00:00.000Z", sliceEnd: "2024-03-05T00:00:00.000Z", pageToken: null,
};

async function tableCounts() {
  const [row] = await stack.sql`select (select count(*)::int from public.bars) as bars,
    (select count(*)::int from public.job_runs) as runs, (select count(*)::int from public.job_definitions) as defs,
    (select md5(string_agg(j::text, ',' order by id)) from public.job_runs j) as runs_digest`;
  return row;
}

describe("worker input", () => {
  it("fetch-bars refuses a basket name as a symbol with 400 before any I/O", async () => {
    const before = { sim: stack.sim.stats().requests, db: await tableCounts() };
    const res = await stack.invoke("fetch-bars", { ...sliceBody, kind: "single", symbol: "US_BATCH_1" });
    expect(res.status).toBe(400);
    expect((res.body as { message: string }).message).toMatch(/^symbol: must be a ticker/);
    expect(stack.sim.stats().requests).toBe(before.sim);
    expect(await tableCounts()).toEqual(before.db);
  });

  it("each worker takes only its own kind: no route falls back to the other", async () => {
    const batch = await stack.invoke("fetch-bars", { ...sliceBody, kind: "batch", name: "US_BATCH_1", symbols: ["AAPL"] });
    expect(batch.status).toBe(400);
    expect((batch.body as { message: string }).message).toMatch(/kind/);
    const single = await stack.invoke("fetch-bars-batch", { ...sliceBody, kind: "single", symbol: "AAPL" });
    expect(single.status).toBe(400);
  });
});
