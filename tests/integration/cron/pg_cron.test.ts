/**
 * pg_cron on a real server: the migration's setup_lease_sweeper_cron() and
 * setup_orchestrator_tick_cron() schedule what the database supports and stay
 * idempotent; pg_cron really runs both jobs, and a tick without its Vault
 * secrets fails with a message naming them and queues no request.
 *
 * Needs CRON_DATABASE_URL: the database named by cron.database_name on a
 * Postgres with pg_cron preloaded (.ci/install-pg-cron.sh sets one up:
 * postgres://postgres@127.0.0.1:5432/bars_cron). The database is reset: the
 * objects in public (not extension members), supabase_migrations and the
 * test's net/vault stubs are dropped; pg_cron and other jobs are kept. It
 * refuses databases that look like Supabase projects.
 * Longer than most files: pg_cron runs minute by minute, so its checks share one database and one wait.
 */
import postgres, { type Sql } from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { migrateDatabase } from "../../../scripts/db/migrate.ts";
import { dropProjectObjects } from "../../helpers/project-objects.ts";

const url = process.env.CRON_DATABASE_URL;
const TICK = "bars-orchestrator-tick";
const REQUEUE = "bars-requeue-expired";
const FOLLOW = "bars-follow-catch-up";

interface CronJob {
  jobid: string;
  jobname: string;
  schedule: string;
  command: string;
  database: string;
  active: boolean;
}

const SKIP_REASON =
  "tests/integration/cron skipped: CRON_DATABASE_URL is not set (run .ci/install-pg-cron.sh, then set it to " +
  "postgres://postgres@127.0.0.1:5432/bars_cron)";
if (!url) console.warn(SKIP_REASON);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function jobs(sql: Sql): Promise<CronJob[]> {
  return await sql<CronJob[]>`
    select jobid::text, jobname, schedule, command, database, active
      from cron.job where jobname in (${TICK}, ${REQUEUE}) order by jobname, jobid`;
}

async function setupSweeper(sql: Sql, args = ""): Promise<string> {
  const [row] = await sql.unsafe<{ line: string }[]>(`select public.setup_lease_sweeper_cron(${args}) as line`);
  return row!.line;
}

async function setupTick(sql: Sql, args = ""): Promise<string> {
  const [row] = await sql.unsafe<{ line: string }[]>(`select public.setup_orchestrator_tick_cron(${args}) as line`);
  return row!.line;
}

/** Both setup functions, as the migration calls them. */
async function setup(sql: Sql): Promise<string[]> {
  return [await setupSweeper(sql), await setupTick(sql)];
}

/** Removes our jobs, their history, and everything the migrations and stubs created. */
async function reset(sql: Sql): Promise<void> {
  // This test drops objects: refuse anything that looks like a real Supabase project.
  const [guard] = await sql<{ supabase: boolean; extensions: string[] }[]>`
    select exists (select 1 from pg_roles where rolname = 'supabase_admin') as supabase,
           array(select extname::text from pg_extension where extname in ('pg_net', 'supabase_vault')) as extensions`;
  if (guard!.supabase || guard!.extensions.length > 0) {
    throw new Error(`CRON_DATABASE_URL looks like a Supabase database (${guard!.extensions.join(", ")}): refusing to reset it`);
  }
  // pg_cron itself stays: the migration creates it only when it is absent.
  const [{ cron } = { cron: false }] = await sql<{ cron: boolean }[]>`
    select exists (select 1 from pg_extension where extname = 'pg_cron') as cron`;
  if (cron) {
    await sql`delete from cron.job_run_details where jobid in (select jobid from cron.job where jobname in (${TICK}, ${REQUEUE}, ${FOLLOW}))`;
    await sql`select cron.unschedule(jobid) from cron.job where jobname in (${TICK}, ${REQUEUE}, ${FOLLOW})`;
  }
  await sql.unsafe(`
    drop schema if exists supabase_migrations cascade;
    drop schema if exists net cascade;
    drop schema if exists vault cascade;`);
  await dropProjectObjects(sql);
}

/** Fake pg_net and Vault, only in this database: http_post records its arguments. Replaces earlier stubs. */
async function createStubs(sql: Sql, secrets: Record<string, string>): Promise<void> {
  await sql.unsafe(`
    drop schema if exists net cascade;
    drop schema if exists vault cascade;
    create schema net;
    create table net.calls (id bigint generated always as identity, url text, body jsonb, params jsonb,
                            headers jsonb, timeout_milliseconds integer);
    create function net.http_post(url text, body jsonb default '{}', params jsonb default '{}',
                                  headers jsonb default '{"Content-Type": "application/json"}',
                                  timeout_milliseconds integer default 5000) returns bigint
    language sql as $$
      insert into net.calls (url, body, params, headers, timeout_milliseconds)
      values (url, body, params, headers, timeout_milliseconds) returning id
    $$;
    create schema vault;
    create table vault.stub_secrets (name text primary key, secret text not null);
    create view vault.decrypted_secrets as select name, secret as decrypted_secret from vault.stub_secrets;`);
  for (const [name, secret] of Object.entries(secrets)) {
    await sql`insert into vault.stub_secrets values (${name}, ${secret})
              on conflict (name) do update set secret = excluded.secret`;
  }
}

describe.skipIf(!url)("pg_cron schedules (needs CRON_DATABASE_URL, e.g. postgres://postgres@127.0.0.1:5432/bars_cron; see .ci/install-pg-cron.sh)", () => {
  let sql: Sql;
  let cronVersion = "";

  beforeAll(async () => {
    sql = postgres(url!, { max: 2, onnotice: () => {} });
    await reset(sql);
    await migrateDatabase(url!);
    const [v] = await sql<{ v: string }[]>`select extversion as v from pg_extension where extname = 'pg_cron'`;
    if (!v) throw new Error("the migration did not create pg_cron: is it preloaded, and is this cron.database_name? See .ci/install-pg-cron.sh");
    cronVersion = v.v;
  });

  afterAll(async () => {
    if (!sql) return;
    if (cronVersion) {
      await sql`delete from cron.job_run_details where jobid in (select jobid from cron.job where jobname in (${TICK}, ${REQUEUE}, ${FOLLOW}))`;
      await sql`select public.unschedule_bars_cron_jobs()`;
    }
    await sql.unsafe("drop schema if exists net cascade; drop schema if exists vault cascade;");
    await sql.end({ timeout: 5 });
  });

  it("the migration schedules the requeue job and says why it skipped the tick (no pg_net, no Vault)", async () => {
    const [requeue, ...others] = await jobs(sql);
    expect(others).toEqual([]);
    expect(requeue).toMatchObject({
      jobname: REQUEUE,
      schedule: "* * * * *",
      command: "select public.requeue_expired_job_runs()",
      active: true,
    });
    const [{ db } = { db: "" }] = await sql<{ db: string }[]>`select current_database() as db`;
    expect(requeue!.database).toBe(db);

    // The daily catch-up of followed definitions: 01:30 UTC, Tuesday to Saturday (after 20:15 New York in EST and EDT).
    const [follow] = await sql<CronJob[]>`
      select jobid::text, jobname, schedule, command, database, active from cron.job where jobname = ${FOLLOW}`;
    expect(follow).toMatchObject({
      schedule: "30 1 * * 2-6", command: "select count(*) from public.catch_up_followed_definitions(now())", active: true, database: db,
    });
    const [{ again }] = await sql<{ again: string }[]>`select public.setup_follow_catch_up_cron() as again`;
    expect(again).toBe(`scheduled bars-follow-catch-up (job ${follow!.jobid}, 30 1 * * 2-6): ${follow!.command}`);

    const lines = await setup(sql);
    expect(lines[0]).toMatch(/^scheduled bars-requeue-expired/);
    expect(lines[1]).toMatch(/^skipped bars-orchestrator-tick: pg_net is not installed.*Vault is not installed/);
  });

  it("is idempotent: calling setup twice leaves exactly one job per name", async () => {
    await setup(sql);
    await setup(sql);
    const names = (await jobs(sql)).map((j) => j.jobname);
    expect(names).toEqual([REQUEUE]);
  });

  it("pg_cron runs the jobs: the sweeper requeues an expired run; a tick without Vault secrets fails and queues nothing; the catch-up appends a followed definition's completed days", async () => {
    // pg_cron >= 1.5 accepts second schedules; 1.4 (Debian 12) runs jobs only at minute boundaries.
    const [major = 0, minor = 0] = cronVersion.split(/[.-]/).map(Number);
    const seconds = major > 1 || (major === 1 && minor >= 5);
    const schedule = seconds ? "p_schedule => '1 seconds'" : "";
    await setupSweeper(sql, schedule);
    const [job] = await jobs(sql);
    // pg_net and Vault (stubs) exist, the secrets do not: the tick is scheduled with a warning.
    await createStubs(sql, {});
    const warning = await setupTick(sql, schedule);
    expect(warning).toMatch(/^warning: scheduled bars-orchestrator-tick .* Vault secret\(s\) missing: orchestrator_secret_key, project_url/);
    expect(warning).toContain("vault.create_secret(");
    const tickJob = (await jobs(sql)).find((j) => j.jobname === TICK)!;
    expect(tickJob.command).toBe("select public.post_orchestrator_tick(10000)");

    const [def] = await sql<{ id: string }[]>`
      insert into public.job_definitions (kind, symbol, timeframe, range_start, range_end)
      values ('single', 'AAPL', '1Min', '2024-01-01Z', '2024-01-02Z') returning id::text`;
    const [run] = await sql<{ id: string; at: Date }[]>`
      insert into public.job_runs (job_def_id, status, slice_start, slice_end, attempt, locked_by, locked_until, started_at)
      values (${def!.id}, 'running', '2024-01-01Z', '2024-01-01T01:00Z', 1, 'dead-worker',
              now() - interval '1 minute', now() - interval '2 minutes')
      returning id::text, now() as at`;

    // A definition followed up to three days ago; the catch-up job, run by pg_cron within the same wait, covers the days since.
    const [{ id: followedId }] = await sql<{ id: string }[]>`
      select public.plan_followed_backfill('single', 'MSFT', null, '1Min', now() - interval '10 days',
                                           p_until => now() - interval '3 days')::text as id`;
    const [followed] = await sql<{ id: string; end: Date }[]>`
      select id::text, range_end as end from public.job_definitions where id = ${followedId}`;
    expect(await sql`select public.setup_follow_catch_up_cron(${seconds ? "1 seconds" : "* * * * *"}) as line`)
      .toEqual([{ line: expect.stringMatching(/^scheduled bars-follow-catch-up/) }]);
    const [followJob] = await sql<{ jobid: string }[]>`select jobid::text from cron.job where jobname = ${FOLLOW}`;

    const now = Date.now();
    const budgetMs = seconds ? 30_000 : 60_000 - (now % 60_000) + 15_000;
    const deadline = now + budgetMs;
    let state = { status: "running", cron_succeeded: false, tick_failed: false, caught_up: false };
    while (Date.now() < deadline) {
      [state] = await sql<{ status: string; cron_succeeded: boolean; tick_failed: boolean; caught_up: boolean }[]>`
        select r.status,
               exists (select 1 from cron.job_run_details d
                        where d.jobid = ${job!.jobid} and d.status = 'succeeded' and d.start_time >= ${run!.at}) as cron_succeeded,
               exists (select 1 from cron.job_run_details d
                        where d.jobid = ${tickJob.jobid} and d.status = 'failed' and d.start_time >= ${run!.at}) as tick_failed,
               exists (select 1 from cron.job_run_details d
                        where d.jobid = ${followJob!.jobid} and d.status = 'succeeded' and d.start_time >= ${run!.at}) as caught_up
          from public.job_runs r where r.id = ${run!.id}`;
      if (state.status === "queued" && state.cron_succeeded && state.tick_failed && state.caught_up) break;
      await sleep(250);
    }
    expect(state, `pg_cron ${cronVersion} did not run the jobs within ${budgetMs} ms`).toEqual({
      status: "queued",
      cron_succeeded: true,
      tick_failed: true,
      caught_up: true,
    });
    // The catch-up moved the followed definition to the last completed day and appended slices from its old end, no hole.
    const [after] = await sql<{ end: Date; expected: Date; first: Date; last: Date }[]>`
      select d.range_end as end, public.last_completed_session_end(d.feed, now()) as expected,
             (select min(slice_start) from public.job_runs r where r.job_def_id = d.id and r.slice_start >= ${followed!.end}) as first,
             (select max(slice_end) from public.job_runs r where r.job_def_id = d.id) as last
        from public.job_definitions d where d.id = ${followed!.id}`;
    expect(after!.end.getTime()).toBeGreaterThan(followed!.end.getTime());
    expect(after!.end).toEqual(after!.expected);
    expect(after!.first).toEqual(followed!.end);
    expect(after!.last).toEqual(after!.end);
    expect(await sql`select public.setup_follow_catch_up_cron() as line`)
      .toEqual([{ line: expect.stringMatching(/^scheduled bars-follow-catch-up \(job \d+, 30 1 \* \* 2-6\)/) }]);
    const [row] = await sql`select attempt, locked_by, error_message from public.job_runs where id = ${run!.id}`;
    expect(row).toMatchObject({ attempt: 1, locked_by: null });
    expect(row!.error_message).toMatch(/^lease expired \(holder dead-worker, attempt 1\)/);

    // The failed tick says what is missing and how to create it; pg_net was never called.
    const [detail] = await sql<{ return_message: string }[]>`
      select return_message from cron.job_run_details
       where jobid = ${tickJob.jobid} and status = 'failed' order by start_time desc limit 1`;
    expect(detail!.return_message).toMatch(
      /orchestrator tick not sent: Vault secret\(s\) missing: project_url, orchestrator_secret_key/,
    );
    expect(detail!.return_message).toContain("select vault.create_secret('https://<project-ref>.supabase.co', 'project_url');");
    expect(detail!.return_message).toContain("select vault.create_secret('<secret key>', 'orchestrator_secret_key');");
    expect(detail!.return_message).not.toMatch(/null value in column/);
    const [{ calls }] = await sql<{ calls: number }[]>`select count(*)::int as calls from net.calls`;
    expect(calls).toBe(0);
  }, 90_000);

  it("with pg_net and Vault (stubs), the tick job posts to the orchestrator with the key read from Vault at run time", async () => {
    const key = `sb_secret_test_${Math.random().toString(36).slice(2)}`;
    await createStubs(sql, { project_url: "http://kong.test:8000", orchestrator_secret_key: key });
    const line = await setupTick(sql, "p_timeout_ms => 7000");
    expect(line).toMatch(/^scheduled bars-orchestrator-tick \(job \d+, \* \* \* \* \*\): select public\.post_orchestrator_tick\(7000\)$/);
    expect(await setupSweeper(sql)).toMatch(/^scheduled bars-requeue-expired/);
    await setupTick(sql, "p_timeout_ms => 7000");
    const all = await jobs(sql);
    expect(all.map((j) => j.jobname)).toEqual([TICK, REQUEUE]);
    const tick = all[0]!;
    expect(tick.schedule).toBe("* * * * *");
    // Secrets are never baked into the job: it reads Vault when it runs.
    expect(tick.command).not.toContain(key);
    expect(tick.command).not.toContain("kong.test");

    const post = async () => {
      await sql.unsafe(tick.command);
      const [call] = await sql<{ url: string; body: { tick?: string }; headers: Record<string, string>; timeout_milliseconds: number }[]>`
        select url, body, headers, timeout_milliseconds from net.calls order by id desc limit 1`;
      return call!;
    };
    const call = await post();
    expect(call.url).toBe("http://kong.test:8000/functions/v1/orchestrator");
    expect(call.headers).toEqual({ "Content-Type": "application/json", apikey: key });
    expect(call.timeout_milliseconds).toBe(7000);
    expect(typeof call.body.tick).toBe("string");

    // Rotation takes effect on the next run, without rescheduling; a legacy JWT key is also sent as Bearer.
    const jwt = "eyJhbGciOiJIUzI1NiJ9.e30.c2lnbmF0dXJl";
    await sql`update vault.stub_secrets set secret = ${jwt} where name = 'orchestrator_secret_key'`;
    await sql`update vault.stub_secrets set secret = 'https://ref.supabase.co' where name = 'project_url'`;
    const rotated = await post();
    expect(rotated.url).toBe("https://ref.supabase.co/functions/v1/orchestrator");
    expect(rotated.headers).toEqual({ "Content-Type": "application/json", apikey: jwt, Authorization: `Bearer ${jwt}` });

    // A secret that goes missing stops the tick with a message naming it (never a value), and no request is queued.
    await sql`delete from vault.stub_secrets where name = 'project_url'`;
    // The lock keeps pg_cron's own runs of the job from adding calls between the two counts.
    const { before, refused, after } = await sql.begin(async (tx) => {
      await tx`lock table net.calls in exclusive mode`;
      const [{ n: before }] = await tx<{ n: number }[]>`select count(*)::int as n from net.calls`;
      const refused = await tx.savepoint((sp) => sp.unsafe(tick.command)).catch((e: Error & { code?: string }) => e);
      const [{ n: after }] = await tx<{ n: number }[]>`select count(*)::int as n from net.calls`;
      return { before, refused, after };
    });
    expect(refused).toMatchObject({ code: "55000" });
    expect((refused as Error).message).toMatch(/Vault secret\(s\) missing: project_url;.*vault\.create_secret\('https:\/\/<project-ref>\.supabase\.co', 'project_url'\)/);
    expect((refused as Error).message).not.toContain(jwt);
    expect(after).toBe(before);
    expect(await setupTick(sql, "p_timeout_ms => 7000")).toMatch(/^warning: .*Vault secret\(s\) missing: project_url;/);

    // Operators can remove the project's jobs: the tick, the sweeper and the catch-up.
    const [out] = await sql<{ removed: string[] }[]>`select public.unschedule_bars_cron_jobs() as removed`;
    expect(out!.removed).toEqual([
      expect.stringMatching(/^unscheduled bars-follow-catch-up/),
      expect.stringMatching(/^unscheduled bars-orchestrator-tick/),
      expect.stringMatching(/^unscheduled bars-requeue-expired/),
    ]);
    expect(await jobs(sql)).toEqual([]);
  });
});
