/**
 * Access at the SQL level: the `anon` and `authenticated` roles (what the Data
 * API runs publishable keys and signed-in users as) can read, write or execute
 * nothing in schema `public`, and every table has row level security on.
 *
 * The objects are found by walking pg_catalog, not listed here, so a table,
 * view, sequence or function a later migration adds without revoking is
 * covered (and flagged) automatically; the last test proves that by adding one
 * of each in a transaction that is rolled back.
 * Longer than most files: the catalog walk and its self-test must stay together.
 */
import type { Sql, TransactionSql } from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDb, type TestDb } from "../../helpers/db.ts";
import { queueRuns } from "../../helpers/fixtures.ts";
import { tableDigest } from "../../helpers/resilience-checks.ts";

/** Objects the walk must at least find (it finds every other one too). */
const KNOWN_TABLES = ["alpaca_assets", "bars", "job_definitions", "job_runs", "market_calendar", "market_calendar_ranges", "rate_bucket_minutes", "rate_buckets"];
const KNOWN_VIEWS = ["job_batch_detection", "job_progress", "job_recent_errors", "job_status_by_definition"];
const KNOWN_FUNCTIONS = ["claim_job_runs", "complete_job_run", "fail_job_run", "plan_backfill", "save_bars_page", "take_rate_token"];
const ROLES = ["anon", "authenticated"] as const;
const DENIED = "42501"; // insufficient_privilege: "permission denied for ..."

type Db = Sql | TransactionSql;
type Outcome = { rows: unknown[] } | { error: string; code: string };

let db: TestDb;

beforeAll(async () => {
  db = await createTestDb();
  // Rows in every table, so "nothing read or changed" is not because the tables are empty.
  await queueRuns(db.sql, { runs: 2 });
  await db.sql`insert into public.bars values ('AAPL', '1Min', '2024-01-02T14:30:00Z', 1, 2, 0.5, 1.5, 100, 10, 1.2)`;
  await db.sql`select public.take_rate_token('alpaca', 200)`;
  await db.sql`select public.refresh_market_calendar('2024-01-02', '2024-01-02', ${db.sql.json([
    { date: "2024-01-02", open: "09:30", close: "16:00", session_open: "0400", session_close: "2000", source: "alpaca" },
  ])})`;
  await db.sql`select public.save_alpaca_assets(${db.sql.json([
    { symbol: "AAPL", name: "Apple", class: "us_equity", exchange: "NASDAQ", status: "active", tradable: true },
  ])})`;
});
afterAll(async () => {
  await db.drop();
});

/**
 * Runs `statement` as `role` in a transaction (or, inside one, a savepoint)
 * that is always rolled back.
 */
async function asRole(sql: Db, role: string, statement: string): Promise<Outcome> {
  const body = async (tx: TransactionSql) => {
    await tx.unsafe(`set local role ${role}`);
    const rows = await tx.unsafe(statement);
    throw Object.assign(new Error("rollback"), { rows: [...rows] });
  };
  const attempt = "savepoint" in sql ? (sql as TransactionSql).savepoint(body) : (sql as Sql).begin(body);
  return await attempt.then(
    () => ({ error: "not rolled back", code: "" }),
    (e: Error & { rows?: unknown[]; code?: string }) =>
      e.message === "rollback" ? { rows: e.rows ?? [] } : { error: e.message, code: e.code ?? "" },
  );
}

interface Walk {
  problems: string[];
  statements: number;
  relations: { name: string; kind: string }[];
  functions: string[];
}

/** Every relation and function of schema public, from the catalog, probed as `role`. */
async function walkSchema(sql: Db, role: string): Promise<Walk> {
  const problems: string[] = [];
  let statements = 0;
  const refused = async (statement: string, tolerated: string[] = []) => {
    const res = await asRole(sql, role, statement);
    statements++;
    if (!("error" in res)) problems.push(`${role} could run: ${statement}`);
    else if (res.code !== DENIED && !tolerated.includes(res.code)) problems.push(`${role}: ${statement}: ${res.code} ${res.error}`);
    else if (res.code === DENIED && !/permission denied/.test(res.error)) problems.push(`${role}: ${statement}: unclear ${res.error}`);
  };

  // Relations: no privilege in the catalog (table-level or on any column)...
  const relations = await sql<{ name: string; kind: string; granted: boolean; col: string | null }[]>`
    select c.relname as name, c.relkind::text as kind,
           case when c.relkind = 'S' then has_sequence_privilege(${role}, c.oid, 'usage, select, update')
                else has_table_privilege(${role}, c.oid, 'select, insert, update, delete, truncate, references, trigger')
                     or has_any_column_privilege(${role}, c.oid, 'select, insert, update, references') end as granted,
           (select a.attname from pg_attribute a where a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped
               and a.attidentity = '' and a.attgenerated = '' and a.attname not in ('id', 'job_def_id', 'run_id')
             order by a.attnum limit 1) as col
      from pg_class c
     where c.relnamespace = 'public'::regnamespace and c.relkind in ('r', 'p', 'v', 'm', 'f', 'S')
     order by 1`;
  for (const r of relations) if (r.granted) problems.push(`${role} holds a privilege on ${r.name} (relkind ${r.kind})`);

  // ...and every statement on them is refused for permission.
  for (const r of relations) {
    const q = `public."${r.name}"`;
    if (r.kind === "S") {
      await refused(`select nextval('${q}')`);
      await refused(`select setval('${q}', 1000000)`);
      await refused(`select last_value from ${q}`);
      continue;
    }
    await refused(`select * from ${q}`);
    const table = r.kind === "r" || r.kind === "p";
    // Views over joins may be refused earlier, as not updatable.
    const notUpdatable = table ? [] : ["55000", "0A000", "42809"];
    await refused(`insert into ${q} default values`, notUpdatable);
    if (r.col) await refused(`update ${q} set "${r.col}" = "${r.col}"`, notUpdatable);
    await refused(`delete from ${q}`, notUpdatable);
    if (table) await refused(`truncate ${q} cascade`);
  }

  // Functions: none executable (PUBLIC's default EXECUTE was revoked)...
  const functions = await sql<{ sig: string; name: string; kind: string; executable: boolean; args: string[]; callable: boolean; variadic: boolean }[]>`
    select p.oid::regprocedure::text as sig, p.proname as name, p.prokind::text as kind,
           has_function_privilege(${role}, p.oid, 'execute') as executable,
           array(select format_type(t.oid, null) from unnest(p.proargtypes::oid[]) with ordinality a(oid, n)
                   join pg_type t on t.oid = a.oid order by a.n) as args,
           not exists (select 1 from unnest(p.proargtypes::oid[]) a(oid) join pg_type t on t.oid = a.oid where t.typtype = 'p')
             and p.prokind in ('f', 'p', 'a') as callable,
           p.provariadic <> 0 as variadic
      from pg_proc p where p.pronamespace = 'public'::regnamespace order by 1`;
  for (const f of functions) if (f.executable) problems.push(`${role} can execute ${f.sig}`);
  // ...and calling each one is refused. The arguments are nulls from sub-selects: a constant null
  // would let the planner fold a strict function's call to null without ever checking the privilege.
  for (const f of functions) {
    if (!f.callable) continue;
    const args = f.args.map((t, i) => `${f.variadic && i === f.args.length - 1 ? "variadic " : ""}(select null::${t})`);
    await refused(`${f.kind === "p" ? "call" : "select"} public."${f.name}"(${args.join(", ")})`);
  }
  // The calls that would change the queue, with real arguments, fail just the same.
  for (const call of [
    `insert into public.job_definitions (kind, symbol, range_start, range_end) values ('single', 'AAPL', now(), now() + interval '1 day')`,
    `update public.job_runs set status = 'success'`,
    `delete from public.bars`,
    `select * from public.claim_job_runs('intruder', 10, interval '1 minute')`,
    `select public.plan_backfill('single', 'AAPL', null, '1Min', '2024-01-01Z', '2024-01-02Z')`,
    `select public.requeue_expired_job_runs()`,
    `select public.complete_job_run(1, 'x', 1)`,
    `select public.fail_job_run(1, 'x', 1, 'x')`,
    `select public.take_rate_token('alpaca', 200)`,
  ]) {
    await refused(call);
  }
  return { problems, statements, relations, functions: functions.map((f) => f.name) };
}

/** Tables (plain or partitioned) of schema public without row level security. */
async function tablesWithoutRls(sql: Db): Promise<string[]> {
  const rows = await sql<{ name: string }[]>`
    select relname as name from pg_class
     where relnamespace = 'public'::regnamespace and relkind in ('r', 'p') and not relrowsecurity order by 1`;
  return rows.map((r) => r.name);
}

describe("access", () => {
  it("every table has row level security enabled", async () => {
    const tables = await db.sql<{ name: string }[]>`
      select relname as name from pg_class where relnamespace = 'public'::regnamespace and relkind in ('r', 'p') order by 1`;
    expect(tables.map((t) => t.name).sort()).toEqual([...KNOWN_TABLES].sort());
    expect(await tablesWithoutRls(db.sql)).toEqual([]);
  });

  for (const role of ROLES) {
    it(`${role} reads, writes and executes nothing in any table, view, sequence or function`, async () => {
      // The superuser sees rows in every table, so "nothing" below is not because they are empty.
      const digest = await tableDigest(db.sql);
      for (const t of KNOWN_TABLES) expect(digest[t], t).not.toMatch(/^0:/);

      const walk = await walkSchema(db.sql, role);
      // The walk saw the schema (it is not vacuous)...
      expect(walk.relations.map((r) => r.name)).toEqual(expect.arrayContaining([...KNOWN_TABLES, ...KNOWN_VIEWS]));
      expect(walk.relations.some((r) => r.kind === "S")).toBe(true);
      expect(walk.functions).toEqual(expect.arrayContaining(KNOWN_FUNCTIONS));
      // ...and found nothing the role may do; nothing changed.
      expect(walk.problems).toEqual([]);
      expect(await tableDigest(db.sql)).toEqual(digest);
      console.log(`[access] ${role}: ${walk.statements} statements refused on ${walk.relations.length} relations and ${walk.functions.length} functions`);
    });
  }

  it("service_role operates the queue", async () => {
    const res = await asRole(db.sql, "service_role", `select * from public.claim_job_runs('svc', 1, interval '1 minute')`);
    expect("rows" in res ? res.rows.length : res.error).toBe(1);
  });

  it("the walk flags a table, view, sequence and function that a migration added without securing", async () => {
    const found = await db.sql
      .begin(async (tx) => {
        // A function without `revoke execute ... from public` (PUBLIC may execute it by default).
        await tx.unsafe(`create function public.zz_unrevoked() returns integer language sql as 'select 1'`);
        // A table without RLS, a view and a sequence, granted as Supabase's default privileges would.
        await tx.unsafe(`create table public.zz_unsecured (id integer primary key, note text)`);
        await tx.unsafe(`insert into public.zz_unsecured values (1, 'x')`);
        await tx.unsafe(`grant select on public.zz_unsecured to anon`);
        await tx.unsafe(`create view public.zz_exposed as select 1 as one`);
        await tx.unsafe(`grant select on public.zz_exposed to authenticated`);
        await tx.unsafe(`create sequence public.zz_counter`);
        await tx.unsafe(`grant usage on sequence public.zz_counter to authenticated`);
        const result = {
          rls: await tablesWithoutRls(tx),
          anon: (await walkSchema(tx, "anon")).problems,
          authenticated: (await walkSchema(tx, "authenticated")).problems,
        };
        throw Object.assign(new Error("rollback"), { result });
      })
      .catch((e: Error & { result?: Record<string, string[]> }) => {
        if (e.message !== "rollback") throw e;
        return e.result!;
      });

    expect(found.rls).toEqual(["zz_unsecured"]);
    expect(found.anon).toEqual([
      "anon holds a privilege on zz_unsecured (relkind r)",
      `anon could run: select * from public."zz_unsecured"`,
      "anon can execute zz_unrevoked()",
      `anon could run: select public."zz_unrevoked"()`,
    ]);
    expect(found.authenticated).toEqual([
      "authenticated holds a privilege on zz_counter (relkind S)",
      "authenticated holds a privilege on zz_exposed (relkind v)",
      `authenticated could run: select nextval('public."zz_counter"')`,
      `authenticated could run: select * from public."zz_exposed"`,
      "authenticated can execute zz_unrevoked()",
      `authenticated could run: select public."zz_unrevoked"()`,
    ]);
    // The throwaway objects are gone.
    const [{ left }] = await db.sql`select (select count(*) from pg_class where relname like 'zz\\_%')
                                         + (select count(*) from pg_proc where proname like 'zz\\_%') as left`;
    expect(Number(left)).toBe(0);
  });
});
