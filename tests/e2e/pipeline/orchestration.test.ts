/**
 * The functions' contracts on the real stack: input refused before any I/O,
 * concurrent ticks that never process a run twice, and one Alpaca budget
 * shared by every worker.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { compareWithGroundTruth, startStack, type Stack } from "../../helpers/stack.ts";

let stack: Stack;
beforeAll(async () => {
  // A small bucket that refills fast: capacity 8, 160 requests per (real) minute.
  // The workers' shared budget is set just under it.
  stack = await startStack({
    sim: { rateLimitPerMin: 8, timeScale: 20 },
    env: { ALPACA_REQUESTS_PER_MINUTE: "150", ALPACA_BURST: "7", ORCHESTRATOR_CONCURRENCY: "8" },
  });
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

  it("refuses a missing service key with 401 and does nothing", async () => {
    const before = await tableCounts();
    for (const fn of ["orchestrator", "fetch-bars", "fetch-bars-batch"]) {
      expect((await stack.invoke(fn, {}, null)).status).toBe(401);
      expect((await stack.invoke(fn, {}, "wrong-key")).status).toBe(401);
    }
    expect(await tableCounts()).toEqual(before);
  });
});

describe("ticks and the Alpaca budget", () => {
  it("two ticks at once never process a run twice, and all workers stay within one budget", async () => {
    for (const [name, symbols] of [["B1", ["AAPL", "MSFT", "NVDA", "KO"]], ["B2", ["TSLA", "UNH"]]] as const) {
      await stack.sql`select public.plan_backfill('batch', ${name}, ${symbols as never}::jsonb, '1Min',
                        '2024-04-01Z', '2024-04-11Z', p_target_bars => 2000)`;
    }
    await stack.sql`select public.plan_backfill('single', 'IBM', null, '1Min', '2024-04-01Z', '2024-04-11Z', p_target_bars => 1500)`;
    const [{ runs }] = await stack.sql`select count(*)::int as runs from public.job_runs`;
    stack.sim.resetStats();

    let claimed = 0;
    for (let i = 0; i < 60; i++) {
      const ticks = await Promise.all([stack.tick(6), stack.tick(6)]);
      claimed += ticks[0]!.claimed + ticks[1]!.claimed;
      const [{ open }] = await stack.sql`select count(*)::int as open from public.job_runs where status in ('queued', 'running')`;
      if (open === 0) break;
      await new Promise((r) => setTimeout(r, 300));
    }
    const rows = await stack.sql`select status, attempt, count(*)::int as n from public.job_runs group by 1, 2`;
    expect(rows).toEqual([{ status: "success", attempt: 1, n: runs }]);
    expect(claimed).toBe(runs);

    // Each run was accepted by a worker exactly once.
    const accepted = stack.gateway.logs().filter((l) => l.includes('"event":"slice_accepted"')).map((l) => JSON.parse(l).run_id);
    expect(accepted.length).toBe(runs);
    expect(new Set(accepted).size).toBe(runs);

    const stats = stack.sim.stats();
    expect(stats.requests).toBeGreaterThan(8); // more than the bucket holds: the budget had to pace them
    expect(stats.rateLimited).toBe(0);
    const truth = await compareWithGroundTruth(stack.sql);
    expect(truth).toMatchObject({ missing: 0, extra: 0, different: 0 });
  });
});
