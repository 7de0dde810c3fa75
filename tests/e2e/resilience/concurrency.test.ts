/**
 * Concurrency: rounds of five orchestrator ticks fired at once while a
 * scheduler loop ticks in the background (as pg_cron does), with every worker
 * sharing one Alpaca budget that is smaller than the work. No run is claimed
 * or processed twice: each (run, attempt) is routed once and accepted by a
 * worker once, every run succeeds on its first attempt, and Alpaca served each
 * bar once; and the workers together stayed within the budget (Alpaca never
 * answered 429). Then leases: a worker whose lease expired (and whose run was
 * claimed again) can change nothing, whether it calls the guarded SQL
 * functions directly or runs as a real worker function through the gateway.
 *
 * Concurrent claims at the SQL level (many connections, one queue) are in
 * tests/integration/queue/claim_job_runs.test.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { printFigures, tableDigest, waitFor } from "../../helpers/resilience-checks.ts";
import { compareWithGroundTruth, duplicateBars, startStack, type Stack, type TickCounts } from "../../helpers/stack.ts";

let stack: Stack;

beforeAll(async () => {
  // Alpaca's bucket is small and refills fast: capacity 8, 160 requests per (real) minute.
  // The workers' shared budget is set just under it, so every request has to go through it.
  stack = await startStack({
    sim: { rateLimitPerMin: 8, timeScale: 20 },
    env: { ALPACA_REQUESTS_PER_MINUTE: "150", ALPACA_BURST: "7", ORCHESTRATOR_CONCURRENCY: "8", JOB_LEASE_SECONDS: "60" },
  });
  for (const s of ["AAPL", "MSFT", "IBM"]) {
    await stack.sql`select public.plan_backfill('single', ${s}, null, '1Min', '2024-06-03Z', '2024-06-15Z', p_target_bars => 600)`;
  }
  await stack.sql`select public.plan_backfill('batch', 'CONCURRENT_BASKET', '["NVDA","KO","TSLA","UNH"]'::jsonb, '1Min',
                    '2024-06-03Z', '2024-06-15Z', p_target_bars => 6000)`;
});
afterAll(async () => {
  await stack?.stop();
});

const logEvents = (event: string) =>
  stack.gateway.logs().filter((l) => l.includes(`"event":"${event}"`)).map((l) => JSON.parse(l) as Record<string, unknown>);

describe("five ticks at once plus the scheduler, on one Alpaca budget", () => {
  it("never claims, routes or processes a run twice, and all workers together stay within the budget", async () => {
    const [{ runs }] = await stack.sql`select count(*)::int as runs from public.job_runs`;
    stack.sim.resetStats();
    const started = Date.now();
    const counts: TickCounts[] = [];
    let done = false;
    // The scheduler: one tick every 250 ms until the queue is empty.
    const scheduler = (async () => {
      while (!done) {
        counts.push(await stack.tick(3));
        await new Promise((r) => setTimeout(r, 250));
      }
    })();
    let rounds = 0;
    const deadline = Date.now() + 60_000;
    for (;;) {
      const [{ open }] = await stack.sql`select count(*)::int as open from public.job_runs where status in ('queued', 'running')`;
      if (open === 0) break;
      if (Date.now() > deadline) throw new Error(`${open} runs still open after 60 s`);
      counts.push(...(await Promise.all([1, 2, 3, 4, 5].map(() => stack.tick(3)))));
      rounds++;
      await new Promise((r) => setTimeout(r, 100));
    }
    done = true;
    await scheduler;

    const states = await stack.sql`select status, attempt, count(*)::int as n from public.job_runs group by 1, 2`;
    expect(states).toEqual([{ status: "success", attempt: 1, n: runs }]);
    // A run is claimed once, plus once more after each hand-back before an
    // isolate limit (and workers that hand back ask for a tick themselves, so
    // not every claim is in this test's counts).
    const [{ handbacks }] = await stack.sql`
      select count(*)::int as handbacks from public.job_runs, jsonb_array_elements(errors) e where e->>'kind' = 'handed_back'`;
    const claimed = counts.reduce((n, c) => n + c.claimed, 0);
    expect(claimed).toBeGreaterThanOrEqual(runs);
    expect(claimed).toBeLessThanOrEqual(runs + handbacks);
    expect(counts.reduce((n, c) => n + c.requeued, 0)).toBe(0);

    // From the functions' own logs: one routing decision and one worker acceptance per claim.
    const perKey = (event: string) => {
      const m = new Map<string, number>();
      for (const l of logEvents(event)) {
        const key = `${l.run_id}#${l.claim}#${l.attempt}`;
        m.set(key, (m.get(key) ?? 0) + 1);
      }
      return m;
    };
    const accepted = perKey("slice_accepted");
    const routed = perKey("route");
    expect(accepted.size).toBe(runs + handbacks);
    expect([...accepted.values()].every((n) => n === 1)).toBe(true);
    expect(routed.size).toBe(runs + handbacks);
    expect([...routed.values()].every((n) => n === 1)).toBe(true);
    const outcomes = logEvents("slice_finished").map((l) => l.outcome);
    expect(outcomes.filter((o) => o === "success")).toHaveLength(runs);
    expect(outcomes.filter((o) => o !== "success")).toEqual(new Array(handbacks).fill("handed_back"));

    // From Alpaca's side: every bar was served exactly once (no slice fetched twice).
    const truth = await compareWithGroundTruth(stack.sql);
    expect(truth).toMatchObject({ missing: 0, extra: 0, different: 0 });
    expect(stack.sim.stats().barsServed).toBe(truth.expected);
    const [{ written }] = await stack.sql`select sum(rows_written)::int as written from public.job_runs`;
    expect(written).toBe(truth.expected);
    const dup = await duplicateBars(stack.sql);
    expect(dup).toBe(0);

    // One budget for every worker of every tick: more requests than Alpaca's bucket holds
    // (so the budget had to pace them), and not one refused for rate.
    const stats = stack.sim.stats();
    expect(stats.requests).toBeGreaterThan(8);
    expect(stats.rateLimited).toBe(0);

    printFigures("concurrency", {
      runs, rounds_of_5_ticks: rounds, ticks: counts.length, claims: claimed, accepted_per_run_attempt: 1,
      alpaca_requests: stats.requests, rate_limited: stats.rateLimited, bars: truth.expected, lost: truth.missing, duplicated: dup,
      processed_twice: 0, seconds: Math.round((Date.now() - started) / 1000),
    });
  });
});

describe("completions from expired leases", () => {
  it("are refused by every guarded function once the run was claimed again, and change nothing", async () => {
    const [{ id: defId }] = await stack.sql`select public.plan_backfill('single', 'HD', null, '1Min', '2024-06-04Z', '2024-06-05Z',
                                              p_target_bars => 600) as id`;
    // A worker claims the run, then stalls past its lease.
    const [stale] = await stack.sql`select * from public.claim_job_runs('stalled-worker', 1, interval '1 hour')`;
    expect(String(stale!.job_def_id)).toBe(String(defId));
    const runId = String(stale!.run_id);
    await stack.sql`update public.job_runs set locked_until = now() - interval '1 second' where id = ${runId}`;

    // The next tick requeues it, claims it again (attempt 2) and a real worker completes it.
    await stack.drain({ timeoutMs: 30_000, maxRuns: 1, pauseMs: 100 });
    const [run] = await stack.sql`select status, attempt, errors from public.job_runs where id = ${runId}`;
    expect(run).toMatchObject({ status: "success", attempt: 2 });
    expect((run!.errors as { kind: string }[]).map((e) => e.kind)).toEqual(["lease_expired"]);
    const before = await tableDigest(stack.sql);

    // The stalled worker wakes up: every transition it attempts is refused.
    const c = { id: runId, worker: "stalled-worker", attempt: 1 };
    const [{ completed }] = await stack.sql`select public.complete_job_run(${c.id}, ${c.worker}, ${c.attempt}, 'fetch-bars') as completed`;
    expect(completed).toBe(false);
    const [{ status }] = await stack.sql`select public.fail_job_run(${c.id}, ${c.worker}, ${c.attempt}, 'late failure') as status`;
    expect(status).toBeNull();
    const [{ checkpointed }] = await stack.sql`
      select public.checkpoint_job_run(${c.id}, ${c.worker}, ${c.attempt}, 'late-token', 5) as checkpointed`;
    expect(checkpointed).toBe(false);
    const save = await stack.sql`select public.save_bars_page(${c.id}, ${c.worker}, ${c.attempt}, null, '1Min',
        array['HD'], array['2024-06-04T14:30:00Z']::timestamptz[], array[1.0]::float8[], array[1.0]::float8[],
        array[1.0]::float8[], array[1.0]::float8[], array[1]::int8[], array[1]::int8[], array[1.0]::float8[])`.catch((e) => e);
    expect(save).toMatchObject({ code: "JRLL1" });
    expect(await tableDigest(stack.sql)).toEqual(before);

    // The same stale claim sent to the real worker function (as a late orchestrator would): it is accepted
    // (the body is well formed), fetches, and then loses the race at its first write. Nothing changes.
    const slice = {
      runId, jobDefId: String(defId), attempt: 1, worker: "stalled-worker", kind: "single", symbol: "HD", timeframe: "1Min",
      feed: "sip", adjustment: "raw", sliceStart: "2024-06-04T00:00:00.000Z", sliceEnd: "2024-06-05T00:00:00.000Z", pageToken: null,
    };
    const res = await stack.invoke("fetch-bars", slice);
    expect(res.status).toBe(202);
    const finished = await waitFor("the stale worker to finish", () =>
      logEvents("slice_finished").find((l) => l.run_id === runId && l.attempt === 1), 15_000);
    expect(finished.outcome).toBe("lease_lost");
    const after = await tableDigest(stack.sql);
    // Only the shared Alpaca budget and its request count moved (the stale worker did make its request);
    // the run and the bars did not.
    const budget = { rate_buckets: "", rate_bucket_minutes: "" };
    expect({ ...after, ...budget }).toEqual({ ...before, ...budget });

    // A run that is running under someone else's claim is just as safe from the stale worker.
    await stack.sql`select public.plan_backfill('single', 'HD', null, '1Min', '2024-06-05Z', '2024-06-06Z', p_target_bars => 600)`;
    const [held] = await stack.sql`select * from public.claim_job_runs('current-holder', 1, interval '1 hour')`;
    await stack.sql`update public.job_runs set locked_until = now() - interval '1 second' where id = ${held!.run_id}`;
    const [{ requeued }] = await stack.sql`select public.requeue_expired_job_runs() as requeued`;
    expect(requeued).toBe(1);
    const [now] = await stack.sql`select * from public.claim_job_runs('new-holder', 1, interval '1 hour')`;
    expect(now).toMatchObject({ run_id: held!.run_id, attempt: 2 });
    const [{ ok }] = await stack.sql`select public.complete_job_run(${held!.run_id}, 'current-holder', 1) as ok`;
    expect(ok).toBe(false);
    const [row] = await stack.sql`select status, locked_by, attempt from public.job_runs where id = ${held!.run_id}`;
    expect(row).toEqual({ status: "running", locked_by: "new-holder", attempt: 2 });
    printFigures("expired leases", { refused: ["complete_job_run", "fail_job_run", "checkpoint_job_run", "save_bars_page", "worker function", "complete while re-held"].length, changed: 0 });
  });
});
