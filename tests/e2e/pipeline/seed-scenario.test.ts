/**
 * The product's reason to exist, end to end: the seed's two baskets and a few
 * single symbols, through pg-style ticks of the real orchestrator (Deno), the
 * real workers and the Alpaca simulator, into Postgres; checked bar by bar
 * against the simulator's ground truth; then `jobs report` on the result,
 * opened in headless Chromium (tests/helpers/report-checks.ts).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SEED_BASKETS } from "../../../scripts/lib/seed-baskets.ts";
import { checkSeedReport } from "../../helpers/report-checks.ts";
import { compareWithGroundTruth, duplicateBars, startStack, type Stack } from "../../helpers/stack.ts";

let stack: Stack;
const RANGE = { start: "2024-03-04T00:00:00Z", end: "2024-03-14T00:00:00Z" }; // spans the 2024-03-10 DST change
const TARGET_BARS = 8000; // small slices at test scale: dozens of them

beforeAll(async () => {
  stack = await startStack();
  for (const b of SEED_BASKETS) {
    await stack.sql`select public.plan_backfill('batch', ${b.name}, ${b.symbols as never}::jsonb, '1Min',
                      ${RANGE.start}, ${RANGE.end}, p_target_bars => ${TARGET_BARS})`;
  }
  for (const s of ["IBM", "BRK.B"]) {
    await stack.sql`select public.plan_backfill('single', ${s}, null, '1Min', ${RANGE.start}, ${RANGE.end}, p_target_bars => ${TARGET_BARS})`;
  }
  await stack.sql`select public.plan_backfill('batch', 'ONE_SYMBOL', '["KO"]'::jsonb, '1Min', ${RANGE.start}, ${RANGE.end},
                    p_target_bars => ${TARGET_BARS})`;
});
afterAll(async () => {
  await stack?.stop();
});

describe("seed scenario at test scale", () => {
  it("drains every run successfully, routes by kind, and stores exactly the ground truth", async () => {
    const [{ slices }] = await stack.sql`select count(*)::int as slices from public.job_runs`;
    expect(slices).toBeGreaterThanOrEqual(20);

    await stack.drain({ timeoutMs: 240_000, maxRuns: 8 });

    const statuses = await stack.sql`select status, count(*)::int as n from public.job_runs group by status`;
    expect(statuses).toEqual([{ status: "success", n: slices }]);

    // Routing, from the record the workers keep: every batch run (the one-symbol batch
    // included) was handled by fetch-bars-batch, every single by fetch-bars.
    const routed = await stack.sql`
      select jd.kind, jr.handled_by, count(*)::int as n from public.job_runs jr
        join public.job_definitions jd on jd.id = jr.job_def_id group by 1, 2 order by 1`;
    expect(routed.map((r) => [r.kind, r.handled_by])).toEqual([["batch", "fetch-bars-batch"], ["single", "fetch-bars"]]);

    // And from Alpaca's side: no request ever used a basket name as a symbol.
    const stats = stack.sim.stats();
    const requested = stats.log.flatMap((r) => r.symbols);
    expect(requested.some((s) => /BATCH|ONE_SYMBOL/.test(s))).toBe(false);
    expect(stats.log.filter((r) => r.endpoint === "single").every((r) => ["IBM", "BRK.B"].includes(r.symbols[0]!))).toBe(true);

    const truth = await compareWithGroundTruth(stack.sql);
    expect(truth.expected).toBeGreaterThan(100_000);
    expect(truth).toMatchObject({ missing: 0, extra: 0, different: 0, stored: truth.expected });
    expect(await duplicateBars(stack.sql)).toBe(0);

    const [{ written }] = await stack.sql`select sum(rows_written)::int as written from public.job_runs`;
    expect(written).toBe(truth.expected);
    const requests = stats.requests;
    expect(stats.rateLimited).toBe(0);
    console.log(`seed scenario: ${slices} slices, ${truth.expected} bars, ${requests} Alpaca requests, ` +
      `${Math.round(truth.expected / requests)} bars/request`);

    // Under the hosted free plan's isolate limits runs are handed back before an
    // isolate is cut off, and resume on their next claim: no attempt is spent
    // on a platform limit, and none waited out a lease.
    const runs = await stack.sql<{ id: string; attempt: number; kinds: string[] }[]>`
      select id::text, attempt, coalesce(array(select e->>'kind' from jsonb_array_elements(errors) e), '{}') as kinds
        from public.job_runs`;
    expect(runs.filter((r) => r.attempt !== 1)).toEqual([]);
    expect(runs.filter((r) => r.kinds.some((k) => k !== "handed_back"))).toEqual([]);

    // The logs record each routing decision with fixed keys: one per claim, so
    // once per run plus once per hand-back.
    const routes = stack.gateway.logs().filter((l) => l.includes('"event":"route"')).map((l) => JSON.parse(l));
    const routedTimes = new Map<string, number>();
    for (const r of routes) routedTimes.set(r.run_id, (routedTimes.get(r.run_id) ?? 0) + 1);
    expect(Object.fromEntries(routedTimes)).toEqual(Object.fromEntries(runs.map((r) => [r.id, 1 + r.kinds.length])));
    expect(routes.every((r) => (r.kind === "batch") === (r.route === "fetch-bars-batch"))).toBe(true);
    const handBacks = runs.reduce((n, r) => n + r.kinds.length, 0);
    const health = await stack.gateway.stats();
    console.log(`seed scenario under the platform's limits: ${handBacks} hand-backs; isolates ${JSON.stringify(health.isolates)}`);
  });

  // After the drain above (it runs first): the report is made from the stored result, with one hole added.
  it("shows the coverage in jobs report, a hole made on purpose included, and what the run spent", { timeout: 60_000 }, async () => {
    const shot = await checkSeedReport(stack, {
      symbols: [...new Set([...SEED_BASKETS.flatMap((b) => b.symbols), "IBM", "BRK.B", "KO"])],
      tradingDays: ["2024-03-04", "2024-03-05", "2024-03-06", "2024-03-07", "2024-03-08", "2024-03-11", "2024-03-12", "2024-03-13"],
      hole: { symbol: "AAPL", day: "2024-03-07" },
      neighbourDay: "2024-03-06",
    });
    console.log(`seed scenario report screenshot: ${shot}`);
  });
});
