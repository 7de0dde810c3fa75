import { describe, expect, it } from "vitest";
import { useTestDb } from "../../helpers/db.ts";
import { claim, queueRuns } from "../../helpers/fixtures.ts";

const db = useTestDb();

describe("claim_job_runs", () => {
  it("8 concurrent connections claiming from 2,000 queued runs never get the same run, and together get all", async () => {
    await db.sql`truncate public.job_definitions cascade`;
    await queueRuns(db.sql, { runs: 2000 });
    const workers = Array.from({ length: 8 }, (_, i) => ({ name: `w${i}`, sql: db.connect(1) }));
    // Each worker claims in a loop on its own connection until the queue is empty.
    const perWorker = await Promise.all(
      workers.map(async ({ name, sql }) => {
        const got: string[] = [];
        for (;;) {
          const rows = await claim(sql, name, 7);
          if (rows.length === 0) return got;
          got.push(...rows.map((r) => String(r.run_id)));
        }
      }),
    );
    const all = perWorker.flat();
    expect(new Set(all).size).toBe(all.length);
    expect(all.length).toBe(2000);
    // The work really was shared: more than one connection claimed runs.
    expect(perWorker.filter((ids) => ids.length > 0).length).toBeGreaterThan(1);
    const [{ running }] = await db.sql`select count(*)::int as running from public.job_runs where status = 'running' and attempt = 1`;
    expect(running).toBe(2000);
  });

  it("claims by priority then age, skips disabled definitions and runs not yet due", async () => {
    await db.sql`truncate public.job_definitions cascade`;
    const low = await queueRuns(db.sql, { runs: 2, symbol: "MSFT", priority: 200 });
    const high = await queueRuns(db.sql, { runs: 2, symbol: "AAPL", priority: 10 });
    const disabled = await queueRuns(db.sql, { runs: 3, symbol: "NVDA", priority: 1, enabled: false });
    await db.sql`update public.job_runs set run_after = now() + interval '1 hour'
                  where id = (select max(id) from public.job_runs where job_def_id = ${low})`;
    const rows = await claim(db.sql, "w", 10);
    expect(rows.map((r) => r.name)).toEqual(["AAPL", "AAPL", "MSFT"]);
    expect(rows.every((r) => r.attempt === 1 && r.locked_by === "w")).toBe(true);
    const [{ n }] = await db.sql`select count(*)::int as n from public.job_runs where job_def_id = ${disabled} and status = 'queued'`;
    expect(n).toBe(3);
    expect(high).toBeGreaterThan(0);
  });

  it("returns what a worker needs: kind, name, symbols, timeframe, feed, slice", async () => {
    await db.sql`truncate public.job_definitions cascade`;
    await db.sql`select public.plan_backfill('batch', 'US_BATCH_9', '["AAPL","BRK.B"]'::jsonb, '1Min',
                   '2024-03-01Z', '2024-03-02Z', 'iex', 'split')`;
    const [run] = await db.sql`select * from public.claim_job_runs('w', 1, interval '1 minute')`;
    expect(run).toMatchObject({
      kind: "batch", name: "US_BATCH_9", symbols: ["AAPL", "BRK.B"], timeframe: "1Min", feed: "iex",
      adjustment: "split", attempt: 1, page_token: null,
    });
    expect(run!.slice_start.toISOString()).toBe("2024-03-01T00:00:00.000Z");
  });

  it("uses the partial claim index, not a scan of finished runs", async () => {
    await db.sql`truncate public.job_definitions cascade`;
    const def = await queueRuns(db.sql, { runs: 20000 });
    await db.sql`update public.job_runs set status = 'success', finished_at = now() where job_def_id = ${def} and id % 100 <> 0`;
    await db.sql`analyze public.job_runs`;
    const plan = await db.sql.begin(async (tx) => {
      await tx`set local plan_cache_mode = force_generic_plan`;
      const rows = await tx.unsafe(`explain (analyze, buffers, format json) select * from public.claim_job_runs('w', 10, interval '1 minute')`);
      return rows;
    });
    const root = (plan[0] as unknown as { "QUERY PLAN": Array<{ "Execution Time": number }> })["QUERY PLAN"][0]!;
    const inner = await db.sql.unsafe(`explain select q.id from public.job_runs q where q.status = 'queued' and q.run_after <= now()
      order by q.priority, q.run_after, q.id limit 10 for update of q skip locked`);
    expect(inner.map((r) => Object.values(r)[0]).join("\n")).toContain("job_runs_claimable_idx");
    expect(root["Execution Time"]).toBeLessThan(50);
  });
});
