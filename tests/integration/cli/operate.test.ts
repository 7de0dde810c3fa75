import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDb, type TestDb } from "../../helpers/db.ts";
import { claim } from "../../helpers/fixtures.ts";
import { runJobs } from "../../helpers/run-cli.ts";

let db: TestDb;
let env: Record<string, string>;
const ids: Record<"aapl" | "basket" | "msft", string> = { aapl: "", basket: "", msft: "" };
let failedRunId = "";

/** Five one-day slices per definition; priorities make AAPL's runs the first claimed. */
async function plan(kind: string, name: string, symbols: string[] | null, priority: number): Promise<string> {
  const [{ id }] = await db.sql<{ id: string }[]>`
    select public.plan_backfill(${kind}, ${name}, ${symbols ? db.sql.json(symbols) : null}::jsonb, '1Min',
             '2024-03-04T05:00Z', '2024-03-09T05:00Z', p_priority => ${priority}, p_target_bars => ${symbols ? 8000 : 700})::text as id`;
  return id!;
}

beforeAll(async () => {
  db = await createTestDb();
  env = { DATABASE_URL: db.url };
  ids.aapl = await plan("single", "AAPL", null, 10);
  ids.basket = await plan("batch", "US_BATCH_2", ["TMUS", "TSLA", "UNH", "UNP", "UPS", "TXN", "V", "VZ", "WFC", "WMT", "XOM"], 20);
  ids.msft = await plan("single", "MSFT", null, 30);
  // AAPL: one success with 500 bars, one permanent failure, one running, two queued.
  const [ok, bad] = await claim(db.sql, "worker-a", 3);
  await db.sql`select public.checkpoint_job_run(${ok!.run_id}, 'worker-a', 1, null, 500)`;
  await db.sql`select public.complete_job_run(${ok!.run_id}, 'worker-a', 1, 'fetch-bars')`;
  await db.sql`select public.fail_job_run(${bad!.run_id}, 'worker-a', 1, 'Invalid symbol: boom')`;
  failedRunId = bad!.run_id;
});
afterAll(async () => {
  await db.drop();
});

const statusOf = async (defId: string) =>
  await db.sql<{ status: string; n: number }[]>`
    select status, count(*)::int as n from public.job_runs where job_def_id = ${defId} group by status order by status`;

describe("jobs status, errors, cancel, retry", () => {
  it("status shows slices done/failed/running/queued/total and bars written per definition", async () => {
    const res = await runJobs(["status"], env);
    expect(res.code).toBe(0);
    const line = (name: string) => res.stdout.split("\n").find((l) => l.includes(` ${name} `)) ?? "";
    // id kind name symbols timeframe enabled done failed running queued cancelled total bars
    expect(line("AAPL")).toMatch(new RegExp(`^\\s*${ids.aapl}\\s+single\\s+AAPL\\s+1\\s+1Min\\s+yes\\s+1\\s+1\\s+1\\s+2\\s+0\\s+5\\s+500\\s+20`));
    expect(line("US_BATCH_2")).toMatch(/batch\s+US_BATCH_2\s+11\s+1Min\s+yes\s+0\s+0\s+0\s+(\d+)\s+0\s+\1\s+0\s/);
    expect(res.stdout).toMatch(/3 definition\(s\): 1\/\d+ slices done, 1 failed, 500 bars written/);
  });

  it("status --limit shows the first rows, says how many are left out, and still sums every definition", async () => {
    const res = await runJobs(["status", "--limit", "1"], env);
    expect(res.code).toBe(0);
    expect(res.stdout).toContain(" AAPL ");
    expect(res.stdout).not.toContain(" MSFT ");
    expect(res.stdout).toContain("… 2 more row(s) not shown (--limit 0 shows all; --id or --kind narrows)");
    expect(res.stdout).toMatch(/3 definition\(s\): 1\/\d+ slices done, 1 failed, 500 bars written/);
    const bad = await runJobs(["status", "--limit", "-1"], env);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--limit/);
  });

  it("status --routing shows the stored kind and route next to the old system's inference", async () => {
    const res = await runJobs(["status", "--routing", "--kind", "batch"], env);
    expect(res.code).toBe(0);
    expect(res.stdout).toMatch(new RegExp(`^\\s*${ids.basket}\\s+batch\\s+US_BATCH_2\\s+11\\s+fetch-bars-batch\\s+BATCH\\s+no$`, "m"));
    expect(res.stdout).not.toContain("AAPL");
  });

  it("errors lists the failed run with its message and attempt", async () => {
    const res = await runJobs(["errors", "--limit", "5"], env);
    expect(res.code).toBe(0);
    expect(res.stdout).toMatch(new RegExp(`^\\s*${failedRunId}\\s+${ids.aapl}\\s+single\\s+AAPL\\s+failed\\s+1/5\\s.*Invalid symbol: boom$`, "m"));
    expect(res.stdout).toContain("1 error(s)");
  });

  it("cancel --kind single needs --yes for more than one definition, then leaves batches untouched", async () => {
    const before = await statusOf(ids.aapl);
    const refused = await runJobs(["cancel", "--kind", "single"], env);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain("--yes");
    expect(await statusOf(ids.aapl)).toEqual(before);

    const basketBefore = await statusOf(ids.basket);
    const res = await runJobs(["cancel", "--kind", "single", "--yes"], env);
    expect(res.code).toBe(0);
    // AAPL: 2 queued + 1 running; MSFT: 5 queued.
    expect(res.stdout).toContain("cancelled 8 run(s) of 2 definition(s)");
    expect(await statusOf(ids.aapl)).toEqual([{ status: "cancelled", n: 3 }, { status: "failed", n: 1 }, { status: "success", n: 1 }]);
    expect(await statusOf(ids.msft)).toEqual([{ status: "cancelled", n: 5 }]);
    expect(await statusOf(ids.basket)).toEqual(basketBefore);
    const enabled = await db.sql`select kind, bool_and(enabled) as enabled from public.job_definitions group by kind order by kind`;
    expect(enabled).toEqual([{ kind: "batch", enabled: true }, { kind: "single", enabled: false }]);
  });

  it("retry moves failed runs back to queued with fresh attempts, leaving cancelled ones alone", async () => {
    const res = await runJobs(["retry", "--id", ids.aapl], env);
    expect(res.code).toBe(0);
    expect(res.stdout).toContain(`requeued 1 run(s) of definition ${ids.aapl}`);
    const [run] = await db.sql`select status, attempt from public.job_runs where id = ${failedRunId}`;
    expect(run).toEqual({ status: "queued", attempt: 0 });
    expect(await statusOf(ids.aapl)).toEqual([{ status: "cancelled", n: 3 }, { status: "queued", n: 1 }, { status: "success", n: 1 }]);
  });

  it("cancel --id of a missing definition fails with exit 1 and changes nothing", async () => {
    const res = await runJobs(["cancel", "--id", "999999"], env);
    expect(res.code).toBe(1);
    expect(res.stderr).toContain("no definition matches --id 999999");
  });
});
