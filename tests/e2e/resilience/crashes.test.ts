/**
 * Crashes during a backfill: the functions gateway (every function's process)
 * is SIGKILLed at random moments, five times, each time while a slice is being
 * worked on, and restarted on the same port; Postgres itself is stopped and
 * started once mid-run. A scheduler-like loop keeps ticking through all of it.
 * In the end every run has finished successfully, none is left running, and
 * the stored bars are exactly the ground truth: none missing, none duplicated,
 * and every page counted once in rows_written.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { expectedBars } from "../../../scripts/alpaca-sim/ground-truth.ts";
import { compareSuccessfulRunsWithGroundTruth, printFigures, seededRandom, waitFor } from "../../helpers/resilience-checks.ts";
import {
  externalTestDb,
  type RestartablePostgres,
  startRestartablePostgres,
  startStackOn,
  tickUntilDrained,
} from "../../helpers/resilience-stack.ts";
import { compareWithGroundTruth, duplicateBars, type Stack } from "../../helpers/stack.ts";

const GATEWAY_KILLS = 5;
const LEASE_SECONDS = 3;

let pg: RestartablePostgres;
let stack: Stack;

beforeAll(async () => {
  // A Postgres server of this file's own, so it can be restarted without disturbing other test files.
  pg = await startRestartablePostgres();
  stack = await startStackOn(externalTestDb(pg.url), {
    // Every Alpaca response takes 250 ms, so kills land while slices are mid-flight.
    sim: { faults: { seed: 3, slow: 1, slowMs: 250 }, rateLimitPerMin: 100_000 },
    env: { JOB_LEASE_SECONDS: String(LEASE_SECONDS), ALPACA_REQUESTS_PER_MINUTE: "100000", ALPACA_BURST: "1000" },
  });
  // Two-page slices of a basket, and one-page daily slices of four tickers: 52 runs.
  await stack.sql`select public.plan_backfill('batch', 'CRASH_BASKET', '["AAPL","MSFT","NVDA","KO","IBM"]'::jsonb, '1Min',
                    '2024-05-06Z', '2024-05-18Z', p_target_bars => 10000, p_max_attempts => 10)`;
  for (const s of ["TSLA", "UNH", "V", "XOM"]) {
    await stack.sql`select public.plan_backfill('single', ${s}, null, '1Min', '2024-05-06Z', '2024-05-18Z',
                      p_target_bars => 600, p_max_attempts => 10)`;
  }
});
afterAll(async () => {
  await stack?.stop();
  await pg?.destroy();
});

/**
 * Runs held under a live lease by a claim made since the previous crash (a claim of a killed worker keeps its
 * lease for a while, so it does not count): the moment to crash again.
 */
async function runsInFlight(claimsBefore: ReadonlySet<string>): Promise<number> {
  const held = await stack.sql<{ locked_by: string }[]>`
    select locked_by from public.job_runs where status = 'running' and locked_until > now()`;
  return held.filter((r) => !claimsBefore.has(r.locked_by)).length;
}

describe("crashes mid-backfill", () => {
  it(`survives ${GATEWAY_KILLS} gateway SIGKILLs and a Postgres restart with nothing lost or duplicated`, async () => {
    const [{ runs }] = await stack.sql`select count(*)::int as runs from public.job_runs`;
    const started = Date.now();
    let chaosDone = false;
    // The scheduler: ticks every 400 ms, two runs at a time, whatever is down; stops once chaos is over and drained.
    const scheduler = (async () => {
      let total = { ticks: 0, errors: 0, claimed: 0 };
      for (;;) {
        const r = await tickUntilDrained(stack, { timeoutMs: 150_000, maxRuns: 2, pauseMs: 400 });
        total = { ticks: total.ticks + r.ticks, errors: total.errors + r.errors, claimed: total.claimed + r.claimed };
        if (chaosDone) return total;
        await new Promise((r) => setTimeout(r, 200));
      }
    })();

    const random = seededRandom(20261128);
    const inFlightAtCrash: number[] = [];
    const claimsBefore = new Set<string>();
    const crashAt = async () => {
      await new Promise((r) => setTimeout(r, 300 + random() * 1200));
      inFlightAtCrash.push(await waitFor("a slice in flight", () => runsInFlight(claimsBefore), 20_000, 25));
      const held = await stack.sql<{ locked_by: string }[]>`select locked_by from public.job_runs where status = 'running'`;
      for (const r of held) claimsBefore.add(r.locked_by);
    };
    try {
      for (let kill = 1; kill <= GATEWAY_KILLS; kill++) {
        await crashAt();
        stack.gateway.kill("SIGKILL");
        const exit = await stack.gateway.exited;
        expect(exit.signal).toBe("SIGKILL");
        await stack.restartGateway();
        if (kill === 3) {
          await crashAt();
          await pg.restart(1000);
        }
      }
    } finally {
      chaosDone = true;
    }
    const ticking = await scheduler;

    // Every run finished, successfully; none left running or queued.
    const states = await stack.sql`select status, count(*)::int as n from public.job_runs group by status`;
    expect(states).toEqual([{ status: "success", n: runs }]);
    const [{ retried, lease_expiries }] = await stack.sql`
      select count(*) filter (where attempt > 1)::int as retried,
             coalesce(sum((select count(*) from jsonb_array_elements(errors) e where e->>'kind' = 'lease_expired')), 0)::int
               as lease_expiries
        from public.job_runs`;
    // The crashes did interrupt work: killed slices were requeued by lease expiry and resumed.
    expect(lease_expiries).toBeGreaterThanOrEqual(GATEWAY_KILLS);
    expect(retried).toBeGreaterThan(0);

    const truth = await compareWithGroundTruth(stack.sql);
    expect(truth).toMatchObject({ missing: 0, extra: 0, different: 0, stored: truth.expected });
    const perRun = await compareSuccessfulRunsWithGroundTruth(stack.sql);
    expect(perRun).toMatchObject({ runs, missing: 0, different: 0, wrongRuns: [] });
    const dup = await duplicateBars(stack.sql);
    expect(dup).toBe(0);
    // Each page's bars and its checkpoint commit together, and the last page completes the run, so every page
    // is counted once.
    const [{ written }] = await stack.sql`select sum(rows_written)::int as written from public.job_runs`;
    expect(written).toBe(truth.expected);

    printFigures("crashes", {
      runs, gateway_sigkills: GATEWAY_KILLS, postgres_restarts: 1, crashes_survived: GATEWAY_KILLS + 1,
      slices_in_flight_at_each_crash: inFlightAtCrash, lease_expiries, runs_retried: retried,
      ticks: ticking.ticks, ticks_failed: ticking.errors, bars: truth.expected, lost: truth.missing, duplicated: dup,
      seconds: Math.round((Date.now() - started) / 1000),
    });
  });

  // page_token null once meant both "not started" and "every page stored": a worker killed between its last
  // page and complete_job_run left a run that fetched its whole slice again and counted it twice. The last
  // page now completes the run in the same transaction (save_bars_page's p_complete_as), so a crash right
  // after it leaves nothing to redo. The crashed worker's state is built through the real SQL functions.
  it("a run whose last page was stored before the crash is already complete: nothing is refetched or recounted", async () => {
    const [{ id: defId }] = await stack.sql`select public.plan_backfill('single', 'HD', null, '1Min', '2024-05-07Z', '2024-05-08Z',
                                              p_target_bars => 600) as id`;
    const [claimed] = await stack.sql`select * from public.claim_job_runs('crashed-worker', 1, interval '1 hour')`;
    expect(String(claimed!.job_def_id)).toBe(String(defId));
    const bars = [...expectedBars({ symbols: ["HD"], timeframe: "1Min", start: "2024-05-07T00:00:00Z", end: "2024-05-07T23:59:59.999Z" })];
    expect(bars.length).toBeGreaterThan(0);
    // What the worker did before it was killed: stored its only (last) page, which completes the run.
    await stack.sql`select public.save_bars_page(${claimed!.run_id}, 'crashed-worker', 1, null, '1Min',
      ${bars.map(() => "HD")}::text[], ${bars.map((b) => b.t)}::timestamptz[], ${bars.map((b) => b.o)}::float8[],
      ${bars.map((b) => b.h)}::float8[], ${bars.map((b) => b.l)}::float8[], ${bars.map((b) => b.c)}::float8[],
      ${bars.map((b) => b.v)}::int8[], ${bars.map((b) => b.n)}::int8[], ${bars.map((b) => b.vw)}::float8[],
      interval '1 hour', 'fetch-bars')`;
    await stack.sql`update public.job_runs set locked_until = now() - interval '1 second' where id = ${claimed!.run_id}`;
    stack.sim.resetStats();
    await stack.drain({ timeoutMs: 30_000, maxRuns: 1, pauseMs: 100 });

    const [run] = await stack.sql`select status, attempt, rows_written::int from public.job_runs where id = ${claimed!.run_id}`;
    expect(run).toMatchObject({ status: "success", attempt: 1 });
    printFigures("crash after the last page", {
      bars: bars.length, rows_written: run!.rows_written, alpaca_requests_on_resume: stack.sim.stats().requests,
    });
    expect(run!.rows_written).toBe(bars.length);
    expect(stack.sim.stats().requests).toBe(0);
  });
});
