/** `jobs tick` against the real stack: Postgres, the Alpaca simulator and the functions served by Deno. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { countBars } from "../../../scripts/alpaca-sim/ground-truth.ts";
import { SERVICE_KEY, startStack, type Stack } from "../../helpers/stack.ts";
import { runJobs } from "../../helpers/run-cli.ts";

let stack: Stack;
let env: Record<string, string>;
beforeAll(async () => {
  stack = await startStack();
  env = { DATABASE_URL: stack.db.url, SUPABASE_URL: stack.env.SUPABASE_URL!, SUPABASE_SERVICE_ROLE_KEY: SERVICE_KEY };
});
afterAll(async () => {
  await stack?.stop();
});

async function openRuns(): Promise<number> {
  const [{ n }] = await stack.sql<{ n: number }[]>`select count(*)::int as n from public.job_runs where status in ('queued', 'running')`;
  return n!;
}

describe("jobs tick", () => {
  it("invokes the orchestrator through supabase-js and prints its counts until the queue is done", async () => {
    const created = await runJobs(["create", "--kind", "single", "--symbol", "KO", "--from", "2024-03-05", "--to", "2024-03-07"], env);
    expect(created.code).toBe(0);

    const first = await runJobs(["tick", "--max-runs", "5"], env);
    expect(first.stderr).toBe("");
    expect(first.code).toBe(0);
    expect(first.stdout.trim()).toBe("tick: requeued 0, claimed 1 (single 1, batch 0), dispatched 1, failed 0");

    // The worker runs in the background after accepting the slice.
    const deadline = Date.now() + 30_000;
    while ((await openRuns()) > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
    const runs = await stack.sql`select status, rows_written::int as rows from public.job_runs`;
    const truth = countBars({ symbols: ["KO"], timeframe: "1Min", start: "2024-03-05T05:00:00Z", end: "2024-03-07T04:59:59Z" });
    expect(runs).toEqual([{ status: "success", rows: truth }]);

    const idle = await runJobs(["tick", "--json"], env);
    expect(idle.code).toBe(0);
    expect(JSON.parse(idle.stdout)).toMatchObject({ claimed: 0, single: 0, batch: 0, dispatched: 0, failed: 0 });
  });

  it("fails with the orchestrator's 401 and never prints the key", async () => {
    const res = await runJobs(["tick", "--key", "wrong-key-abcdef"], { ...env, SUPABASE_SERVICE_ROLE_KEY: undefined });
    expect(res.code).toBe(1);
    expect(res.stderr).toContain("the orchestrator answered 401");
    expect(`${res.stdout}${res.stderr}`).not.toContain("wrong-key-abcdef");
  });
});
