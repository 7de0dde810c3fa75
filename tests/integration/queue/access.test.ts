import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDb, type TestDb } from "../../helpers/db.ts";
import { queueRuns } from "../../helpers/fixtures.ts";

let db: TestDb;
const TABLES = ["job_definitions", "job_runs", "bars", "rate_buckets"];
const VIEWS = ["job_status_by_definition", "job_recent_errors", "job_batch_detection", "job_progress"];

beforeAll(async () => {
  db = await createTestDb();
  await queueRuns(db.sql, { runs: 2 });
});
afterAll(async () => {
  await db.drop();
});

/** Runs `statement` as `role` inside a transaction that is rolled back. */
async function asRole(role: string, statement: string) {
  return await db.sql
    .begin(async (tx) => {
      await tx.unsafe(`set local role ${role}`);
      const rows = await tx.unsafe(statement);
      throw Object.assign(new Error("rollback"), { rows });
    })
    .catch((e: Error & { rows?: unknown[] }) => {
      if (e.message === "rollback") return { rows: e.rows ?? [] };
      return { error: e.message };
    });
}

describe("access", () => {
  it("every table has row level security enabled", async () => {
    const rows = await db.sql`select relname, relrowsecurity from pg_class
                               where relnamespace = 'public'::regnamespace and relkind = 'r' order by relname`;
    expect(rows.map((r) => r.relname).sort()).toEqual([...TABLES].sort());
    expect(rows.every((r) => r.relrowsecurity)).toBe(true);
  });

  for (const role of ["anon", "authenticated"]) {
    it(`${role} can read nothing and write nothing`, async () => {
      for (const t of [...TABLES, ...VIEWS]) {
        const read = await asRole(role, `select * from public.${t}`);
        expect("error" in read ? read.error : read.rows, `${role} reading ${t}`).toMatch(/permission denied/);
      }
      const writes = [
        `insert into public.job_definitions (kind, symbol, range_start, range_end) values ('single', 'AAPL', now(), now() + interval '1 day')`,
        `update public.job_runs set status = 'success'`,
        `delete from public.bars`,
        `select public.claim_job_runs('intruder', 10, interval '1 minute')`,
        `select public.plan_backfill('single', 'AAPL', null, '1Min', now(), now() + interval '1 day')`,
      ];
      for (const w of writes) {
        const res = await asRole(role, w);
        expect("error" in res ? res.error : "succeeded", `${role}: ${w}`).toMatch(/permission denied/);
      }
    });
  }

  it("service_role operates the queue", async () => {
    const res = await asRole("service_role", `select * from public.claim_job_runs('svc', 1, interval '1 minute')`);
    expect("rows" in res ? res.rows?.length : res.error).toBe(1);
  });
});
