/**
 * The pipeline under the Edge Runtime's isolate limits, as the local
 * platform enforces them: tight limits that retire isolates mid-slice still
 * end every run in success with exact bars, the runs handed back instead of
 * left to their leases; an isolate killed with no warning at all is recovered
 * by its lease; and several slices sharing one isolate stay far below its
 * memory limit.
 */
import { readdirSync, readFileSync } from "node:fs";
import { afterEach, describe, expect, it } from "vitest";
import { ISOLATE_ENV } from "../../../scripts/gateway/isolate-protocol.ts";
import { SEED_BASKETS } from "../../../scripts/lib/seed-baskets.ts";
import { compareWithGroundTruth, duplicateBars, startStack, tickUntilDrained, type Stack } from "../../helpers/stack.ts";

let stack: Stack | undefined;
afterEach(async () => {
  await stack?.stop();
  stack = undefined;
});

async function planSeed(s: Stack, start: string, end: string, targetBars: number) {
  for (const b of SEED_BASKETS) {
    await s.sql`select public.plan_backfill('batch', ${b.name}, ${b.symbols as never}::jsonb, '1Min', ${start}, ${end},
                  p_target_bars => ${targetBars})`;
  }
  await s.sql`select public.plan_backfill('single', 'IBM', null, '1Min', ${start}, ${end}, p_target_bars => ${targetBars})`;
}

async function errorKinds(s: Stack): Promise<Record<string, number>> {
  const rows = await s.sql<{ kind: string; n: number }[]>`
    select e->>'kind' as kind, count(*)::int as n from public.job_runs, jsonb_array_elements(errors) e group by 1`;
  return Object.fromEntries(rows.map((r) => [r.kind, r.n]));
}

/** Isolate processes of `fn` started by this stack's gateway (their environment names the function). */
function isolatePids(s: Stack, fn: string): number[] {
  const front = s.gateway.process.pid;
  const pids: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const ppid = Number(readFileSync(`/proc/${entry}/stat`, "utf8").split(") ")[1]!.split(" ")[1]);
      if (ppid !== front) continue;
      const env = readFileSync(`/proc/${entry}/environ`, "utf8").split("\0");
      if (env.includes(`${ISOLATE_ENV.fn}=${fn}`)) pids.push(Number(entry));
    } catch {
      // the process ended while we looked
    }
  }
  return pids;
}

// A tight wall clock, with the hosted plan's CPU limits: tighter CPU limits
// than 2 s leave a loaded 2-core CI machine too little past the Deno
// process's own boot (npm start under 1 s of CPU still drains, but leaves some
// runs to their leases).
describe("under tight isolate limits", () => {
  it("retires isolates mid-slice, and every run still succeeds with exact bars, handed back, never left to a lease", async () => {
    const limits = {
      EDGE_WALL_CLOCK_MS: "30000", WORKER_WALL_CLOCK_MS: "30000",
    };
    stack = await startStack({ env: limits });
    await planSeed(stack, "2024-03-04T00:00:00Z", "2024-03-08T00:00:00Z", 30_000);
    const [{ runs }] = await stack.sql`select count(*)::int as runs from public.job_runs`;

    // The default lease (180 s) is longer than this test: a run left to its lease would fail it.
    await tickUntilDrained(stack, { timeoutMs: 150_000, maxRuns: 8, pauseMs: 200, tolerateErrors: false });

    const states = await stack.sql`select status, count(*)::int as n from public.job_runs group by 1`;
    expect(states).toEqual([{ status: "success", n: runs }]);
    const truth = await compareWithGroundTruth(stack.sql);
    expect(truth).toMatchObject({ missing: 0, extra: 0, different: 0, stored: truth.expected });
    expect(await duplicateBars(stack.sql)).toBe(0);

    const kinds = await errorKinds(stack);
    expect(kinds.handed_back ?? 0).toBeGreaterThan(0);
    expect(kinds.lease_expired ?? 0).toBe(0);
    const health = await stack.gateway.stats();
    const batch = health.functions.find((f) => f.name === "fetch-bars-batch")!;
    expect(batch.tally.retired).toBeGreaterThan(0);
    console.log(`tight limits: ${runs} runs, ${kinds.handed_back} hand-backs, isolates ${JSON.stringify(health.isolates)}`);
  }, 180_000);
});

describe("an isolate killed with no warning", () => {
  it("leaves its runs to their leases, which bring them back: every run succeeds with exact bars", async () => {
    // A slow budget (2 requests a second) keeps slices mid-way long enough to be caught there.
    stack = await startStack({
      env: { JOB_LEASE_SECONDS: "5", ALPACA_REQUESTS_PER_MINUTE: "120", ALPACA_BURST: "4" },
    });
    await planSeed(stack, "2024-03-04T00:00:00Z", "2024-03-06T00:00:00Z", 20_000);
    const [{ runs }] = await stack.sql`select count(*)::int as runs from public.job_runs`;
    await stack.tick(20);

    // Wait until a batch slice is mid-way (a page stored, more to come), then kill its isolate.
    const deadline = Date.now() + 30_000;
    for (;;) {
      const [{ n }] = await stack.sql`
        select count(*)::int as n from public.job_runs where status = 'running' and pages_fetched > 0 and page_token is not null`;
      if (n > 0) break;
      if (Date.now() > deadline) throw new Error("no slice was mid-way within 30 s");
      await new Promise((r) => setTimeout(r, 50));
    }
    const pids = isolatePids(stack, "fetch-bars-batch");
    expect(pids.length).toBeGreaterThan(0);
    for (const pid of pids) process.kill(pid, "SIGKILL");

    await tickUntilDrained(stack, { timeoutMs: 90_000, maxRuns: 20, pauseMs: 250, tolerateErrors: true });
    const states = await stack.sql`select status, count(*)::int as n from public.job_runs group by 1`;
    expect(states).toEqual([{ status: "success", n: runs }]);
    const truth = await compareWithGroundTruth(stack.sql);
    expect(truth).toMatchObject({ missing: 0, extra: 0, different: 0, stored: truth.expected });
    expect((await errorKinds(stack)).lease_expired ?? 0).toBeGreaterThan(0);
    const crashed = (await stack.gateway.stats()).functions.find((f) => f.name === "fetch-bars-batch")!.tally.shutdown.Crashed;
    expect(crashed).toBeGreaterThanOrEqual(pids.length);
  }, 150_000);
});

describe("several slices in one isolate", () => {
  it("stay far below the 256 MB memory limit: the peak is measured", async () => {
    stack = await startStack({ env: { EDGE_CPU_SOFT_MS: "100000", EDGE_CPU_HARD_MS: "200000", WORKER_CPU_LIMIT_MS: "200000" } });
    await planSeed(stack, "2024-03-04T00:00:00Z", "2024-03-12T00:00:00Z", 30_000);
    await tickUntilDrained(stack, { timeoutMs: 120_000, maxRuns: 20, pauseMs: 200, tolerateErrors: false });
    await stack.gateway.stop({ timeoutMs: 10_000 });
    const shutdowns = stack.gateway.logs().filter((l) => l.includes('"event_type":"Shutdown"')).map((l) => JSON.parse(l) as {
      fn: string; requests: number; memory_used: { total: number; rss: number };
    });
    const batch = shutdowns.filter((s) => s.fn === "fetch-bars-batch");
    expect(batch.length).toBeGreaterThan(0);
    const busiest = batch.reduce((a, b) => (b.requests > a.requests ? b : a));
    expect(busiest.requests).toBeGreaterThan(5);
    // memory_used is the isolate's state as it ended; the supervisor would have
    // terminated it (reason Memory) had it passed the limit at any point.
    expect(shutdowns.every((s) => s.memory_used.total < 256 * 1024 * 1024)).toBe(true);
    expect(stack.gateway.logs().some((l) => l.includes("memory limit reached"))).toBe(false);
    console.log(`one isolate, ${busiest.requests} slices: ${(busiest.memory_used.total / 2 ** 20).toFixed(1)} MB heap+external, ` +
      `${(busiest.memory_used.rss / 2 ** 20).toFixed(1)} MB RSS at its end`);
  }, 180_000);
});
