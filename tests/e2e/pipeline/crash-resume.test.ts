/**
 * The gateway (every function's process) SIGKILLed in the middle of a slice:
 * after the lease expires the run is claimed again, resumes from its
 * checkpoint rather than from the start, and the stored bars equal the
 * ground truth.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { compareWithGroundTruth, duplicateBars, startStack, type Stack } from "../../helpers/stack.ts";

let stack: Stack;
const LEASE_SECONDS = 8;

beforeAll(async () => {
  // Every Alpaca response takes 400 ms, so a multi-page slice is still running when the kill lands.
  stack = await startStack({
    sim: { faults: { slow: 1, slowMs: 400, seed: 1 } },
    env: { JOB_LEASE_SECONDS: String(LEASE_SECONDS) },
  });
  await stack.sql`select public.plan_backfill('batch', 'US_BATCH_2', '["TMUS","TSLA","UNH","V","XOM"]'::jsonb, '1Min',
                    '2024-05-06Z', '2024-05-11Z', p_target_bars => 1000000)`;
});
afterAll(async () => {
  await stack?.stop();
});

describe("crash in the middle of a slice", () => {
  it("resumes from the checkpoint after the lease expires, with exact data", async () => {
    const [{ id: runId }] = await stack.sql`select id from public.job_runs`;
    expect((await stack.tick(1)).dispatched).toBe(1);

    // Wait until at least one page is stored (checkpointed), then kill everything at once.
    const deadline = Date.now() + 30_000;
    let checkpoint: { page_token: string | null; pages_fetched: number } | undefined;
    while (Date.now() < deadline) {
      [checkpoint] = await stack.sql`select page_token, pages_fetched from public.job_runs where id = ${runId}`;
      if (checkpoint!.pages_fetched >= 1) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(checkpoint!.pages_fetched).toBeGreaterThanOrEqual(1);
    stack.gateway.kill("SIGKILL");
    await stack.gateway.exited;
    const [killed] = await stack.sql`select status, attempt, page_token, pages_fetched from public.job_runs where id = ${runId}`;
    expect(killed).toMatchObject({ status: "running", attempt: 1 });
    expect(killed!.page_token).not.toBeNull();
    const requestsBefore = stack.sim.stats().log.length;

    await stack.restartGateway();
    // While the lease holds, a tick leaves the run alone (checked only if the restart
    // was quick enough to leave a clear margin on this shared machine).
    const [{ held }] = await stack.sql`select locked_until > now() + interval '2 seconds' as held from public.job_runs where id = ${runId}`;
    if (held) expect((await stack.tick(1)).claimed).toBe(0);
    for (let i = 0; i < 100; i++) {
      const [{ expired }] = await stack.sql`select locked_until < now() as expired from public.job_runs where id = ${runId}`;
      if (expired) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    const next = await stack.tick(1);
    expect(next).toMatchObject({ requeued: 1, claimed: 1, dispatched: 1 });
    await stack.drain({ timeoutMs: 60_000 });

    const [done] = await stack.sql`select status, attempt from public.job_runs where id = ${runId}`;
    expect(done).toEqual({ status: "success", attempt: 2 });
    // The second attempt's first request asked for the checkpointed page, not the first page.
    const resumed = stack.sim.stats().log.slice(requestsBefore).filter((r) => r.status === 200);
    expect(resumed[0]!.pageToken).toBe(killed!.page_token);

    expect(await compareWithGroundTruth(stack.sql)).toMatchObject({ missing: 0, extra: 0, different: 0 });
    expect(await duplicateBars(stack.sql)).toBe(0);
  });
});
