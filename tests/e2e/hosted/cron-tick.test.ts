/**
 * The real tick, end to end, on the hosted-like database (scripts/hosted-db):
 * pg_cron fires bars-orchestrator-tick on a minute boundary, the job reads the
 * URL and key from Vault and net.http_post's to the functions gateway, the
 * orchestrator claims and dispatches, and the workers store every bar through
 * PgBouncer in transaction mode. The test plans the seed's baskets at test
 * scale plus one single, sets the secrets, schedules with the setup functions,
 * and then only waits (the only other ticks are the ones a worker asks for
 * after handing a run back). Before the secrets exist, a tick fails naming them
 * and queues nothing. A followed definition (daily bars, covered up to a day
 * in 2024) is caught up by the real bars-follow-catch-up job, scheduled every
 * minute for the test, within the same wait, and its new slice is fetched too.
 *
 * Needs HOSTED_DB_URL (e.g. postgres://postgres@127.0.0.1:54322/postgres);
 * skipped with a warning otherwise. The database's project state is reset.
 * A few minutes: pg_cron 1.4 ticks once a minute.
 */
import type { Sql } from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SEED_BASKETS } from "../../../scripts/lib/seed-baskets.ts";
import {
  connectHostedDb, deleteVaultSecrets, HOSTED_DB_URL, lockHostedDb, pooledUrl, resetProjectState, setVaultSecret,
  FOLLOW_JOB, SWEEPER_JOB, TICK_JOB, TICK_SECRETS, unscheduleBarsJobs, warnSkipped,
} from "../../helpers/hosted-db.ts";
import { type PoolerPeaks, samplePooler, tickOrigins } from "../../helpers/hosted-figures.ts";
import { waitFor } from "../../helpers/resilience-checks.ts";
import { compareWithGroundTruth, duplicateBars, openRuns, SERVICE_KEY, type Stack, startStackOn } from "../../helpers/stack.ts";

warnSkipped("tests/e2e/hosted/cron-tick.test.ts");

const RANGE = { start: "2024-03-04T00:00:00Z", end: "2024-03-14T00:00:00Z" }; // as seed-scenario.test.ts
const TARGET_BARS = 8000; // test scale: 21 slices here
/** Claimed per tick and in flight at once: 21 slices drain in three ticks. */
const RUNS_PER_TICK = 8;
/** A run whose isolate went away without handing it back waits for its lease: keep that to a tick or two. */
const LEASE_SECONDS = 60;
const DRAIN_TIMEOUT_MS = 6 * 60_000;

interface CronRow { runid: string; status: string; return_message: string; start_time: Date; end_time: Date | null }
interface NetRow { id: string; status_code: number | null; timed_out: boolean | null; error_msg: string | null; content: string | null; created: Date }

describe.skipIf(!HOSTED_DB_URL)("pg_cron ticks the orchestrator through pg_net, Vault and the pooler (HOSTED_DB_URL)", () => {
  const url = HOSTED_DB_URL ?? "";
  const pooled = url && pooledUrl(url);
  let sql: Sql;
  let release: (() => Promise<void>) | undefined;
  let stack: Stack | undefined;
  let slices = 0;
  let tickJobId = "";

  beforeAll(async () => {
    sql = await connectHostedDb(url);
    release = await lockHostedDb(url);
    await resetProjectState(sql, url);
    // The functions reach Postgres only through PgBouncer (transaction mode, no prepared statements).
    stack = await startStackOn(
      { url, sql, connect: () => sql, drop: async () => {} },
      { env: { SUPABASE_DB_URL: pooled, ORCHESTRATOR_MAX_RUNS: String(RUNS_PER_TICK), ORCHESTRATOR_MAX_IN_FLIGHT: String(RUNS_PER_TICK),
               JOB_LEASE_SECONDS: String(LEASE_SECONDS) } },
    );
    for (const b of SEED_BASKETS) {
      await sql`select public.plan_backfill('batch', ${b.name}, ${b.symbols as never}::jsonb, '1Min',
                  ${RANGE.start}, ${RANGE.end}, p_target_bars => ${TARGET_BARS})`;
    }
    await sql`select public.plan_backfill('single', 'IBM', null, '1Min', ${RANGE.start}, ${RANGE.end}, p_target_bars => ${TARGET_BARS})`;
    // Followed through Friday 2024-03-08; the catch-up job brings it to the last completed session (daily bars: one slice).
    await sql`select public.plan_followed_backfill('single', 'KO', null, '1Day', ${RANGE.start},
                p_until => '2024-03-08T23:00:00-05:00', p_target_bars => ${TARGET_BARS})`;
    [{ slices }] = await sql<{ slices: number }[]>`select count(*)::int as slices from public.job_runs`;
  }, 10 * 60_000); // includes waiting for another tests/e2e/hosted file

  afterAll(async () => {
    if (sql) {
      await unscheduleBarsJobs(sql).catch(() => {});
      await deleteVaultSecrets(sql, [...TICK_SECRETS]).catch(() => {});
    }
    await stack?.stop();
    await sql?.end({ timeout: 5 });
    await release?.();
  });

  it("without the Vault secrets, the tick fails naming them and queues no request", async () => {
    // The migration scheduled the tick already (pg_net and Vault are there), with a warning.
    const [job] = await sql<{ jobid: string; command: string }[]>`
      select jobid::text, command from cron.job where jobname = ${TICK_JOB} and username = current_user`;
    expect(job, "the migration did not schedule the tick").toBeDefined();
    tickJobId = job!.jobid;

    // The job's own command, as pg_cron runs it (as postgres), against the real pg_net.
    const queued = async () => (await sql<{ n: string }[]>`
      select (select count(*) from net.http_request_queue) || '/' || (select coalesce(max(id), 0) from net._http_response)
             || '/' || (select last_value || ':' || is_called from net.http_request_queue_id_seq) as n`)[0]!.n;
    const before = await queued();
    const refused = await sql.unsafe(job!.command).then(() => undefined, (e: Error & { code?: string }) => e);
    expect(refused).toMatchObject({ code: "55000" });
    expect(refused!.message).toMatch(/^orchestrator tick not sent: Vault secret\(s\) missing: project_url, orchestrator_secret_key; create them with select vault\.create_secret/);
    expect(await queued()).toBe(before);

    // Real firings since the migration (if a minute boundary passed) failed the same way.
    const fired = await sql<CronRow[]>`select status, return_message from cron.job_run_details where jobid = ${tickJobId}`;
    for (const r of fired) {
      expect(r.status).toBe("failed");
      expect(r.return_message).toMatch(/Vault secret\(s\) missing: project_url, orchestrator_secret_key/);
    }
    console.log(`[hosted] without secrets: the tick's command raised 55000; pg_cron had fired it ${fired.length} time(s), all failed`);
  });

  it("pg_cron's ticks alone drain the seed's baskets and a single through pg_net and the pooler, bar for bar", async () => {
    expect(slices).toBeGreaterThanOrEqual(20);
    const [{ baseline }] = await sql<{ baseline: string }[]>`select coalesce(max(id), 0)::text as baseline from net._http_response`;
    const pooler = samplePooler(pooled);
    let peaks: PoolerPeaks | undefined;
    try {
      await setVaultSecret(sql, "project_url", stack!.gateway.url);
      await setVaultSecret(sql, "orchestrator_secret_key", SERVICE_KEY);
      const [lines] = await sql<{ sweeper: string; tick: string; follow: string; at: Date }[]>`
        select public.setup_lease_sweeper_cron() as sweeper, public.setup_orchestrator_tick_cron() as tick,
               public.setup_follow_catch_up_cron('* * * * *') as follow, now() as at`;
      expect(lines!.follow).toMatch(new RegExp(`^scheduled ${FOLLOW_JOB} \\(job \\d+, \\* \\* \\* \\* \\*\\): select count\\(\\*\\) from public\\.catch_up_followed_definitions\\(now\\(\\)\\)$`));
      expect(lines!.sweeper).toMatch(new RegExp(`^scheduled ${SWEEPER_JOB} `));
      expect(lines!.tick).toBe(`scheduled ${TICK_JOB} (job ${tickJobId}, * * * * *): select public.post_orchestrator_tick(10000)`);
      const since = lines!.at;
      console.log(`[hosted] secrets set, tick scheduled at ${since.toISOString()}; waiting for pg_cron (${slices} slices, ` +
        `${RUNS_PER_TICK} per tick)`);

      // Nothing but waiting: no tick is sent from here.
      const caughtUp = async () => (await sql<{ ok: boolean }[]>`
        select exists (select 1 from cron.job_run_details d join cron.job j using (jobid)
                        where j.jobname = ${FOLLOW_JOB} and d.status = 'succeeded' and d.start_time >= ${since}) as ok`)[0]!.ok;
      await waitFor("pg_cron's catch-up and ticks to drain the queue", async () => (await caughtUp()) && (await openRuns(sql)) === 0,
        DRAIN_TIMEOUT_MS, 2000);
      peaks = await pooler.stop();
      // Operators' way to stop both jobs; then let a tick that had just fired finish, so the records below are complete.
      const [{ removed }] = await sql<{ removed: string[] }[]>`select public.unschedule_bars_cron_jobs() as removed`;
      expect(removed.map((l) => l.replace(/ \(job \d+\)$/, ""))).toEqual([
        `unscheduled ${FOLLOW_JOB}`, `unscheduled ${TICK_JOB}`, `unscheduled ${SWEEPER_JOB}`,
      ]);
      await waitFor("the last tick's request to be answered", async () => {
        const [q] = await sql<{ settled: boolean }[]>`
          select not exists (select 1 from net.http_request_queue)
             and not exists (select 1 from cron.job_run_details where jobid = ${tickJobId} and status in ('starting', 'running'))
             and (select count(*) from net._http_response where id > ${baseline}::bigint)
               = (select count(*) from cron.job_run_details where jobid = ${tickJobId} and start_time >= ${since} and status = 'succeeded')
             as settled`;
        return q!.settled;
      }, 30_000, 250);

      // The catch-up appended the followed definition's slices from its old end to the last completed session.
      const [followed] = await sql<{ end: Date; expected: Date; added: number }[]>`
        select d.range_end as end, public.last_completed_session_end(d.feed, now()) as expected,
               (select count(*)::int from public.job_runs r where r.job_def_id = d.id and r.slice_start >= '2024-03-09T05:00:00Z') as added
          from public.job_definitions d where d.follow`;
      expect(followed!.end).toEqual(followed!.expected);
      expect(followed!.added).toBeGreaterThan(0);
      const statuses = await sql`select status, count(*)::int as n from public.job_runs group by status`;
      expect(statuses).toEqual([{ status: "success", n: slices + followed!.added }]);
      const truth = await compareWithGroundTruth(sql);
      expect(truth.expected).toBeGreaterThan(100_000);
      expect(truth).toMatchObject({ missing: 0, extra: 0, different: 0, stored: truth.expected });
      expect(await duplicateBars(sql)).toBe(0);
      expect(stack!.sim.stats().rateLimited).toBe(0);

      // pg_cron's record: the tick ran on minute boundaries, every run since the secrets succeeded.
      const cron = await sql<CronRow[]>`
        select runid::text, status, return_message, start_time, end_time from cron.job_run_details
         where jobid = ${tickJobId} and start_time >= ${since} order by start_time`;
      expect(cron.length).toBeGreaterThan(0);
      for (const r of cron) {
        expect(r).toMatchObject({ status: "succeeded", return_message: "1 row" });
        expect(r.start_time.getUTCSeconds()).toBeLessThan(5); // pg_cron 1.4: minute boundaries
      }

      // pg_net's record: every request reached the orchestrator and got its 200 with the tick's counts.
      const net = await sql<NetRow[]>`
        select id::text, status_code, timed_out, error_msg, content, created from net._http_response
         where id > ${baseline}::bigint order by id`;
      expect(net.length).toBe(cron.length);
      for (const r of net) {
        expect(r, JSON.stringify(r)).toMatchObject({ status_code: 200, error_msg: null });
        const counts = JSON.parse(r.content!) as { claimed: number; in_flight: number };
        expect(counts.claimed + counts.in_flight).toBeLessThanOrEqual(RUNS_PER_TICK);
      }
      // Every tick the orchestrator logged is one of pg_cron's (its response is in net._http_response) or
      // a worker's own request after handing a run back (due at once, while pg_cron waits a minute);
      // the test itself sent none. Each run was claimed once, plus once per recorded early end.
      const origins = tickOrigins(stack!.gateway.logs(), net.map((r) => r.content));
      const [{ earlier, handedBack }] = await sql<{ earlier: number; handedBack: number }[]>`
        select coalesce(sum(jsonb_array_length(errors)), 0)::int as earlier,
               (select count(*)::int from public.job_runs, jsonb_array_elements(errors) e where e->>'kind' = 'handed_back') as "handedBack"
          from public.job_runs`;
      expect(origins).toMatchObject({ cron: net.length, unmatched: 0 });
      expect(origins.kicks).toBeLessThanOrEqual(handedBack);
      // The runs are the planned slices and those the catch-up appended.
      const runs = slices + followed!.added;
      expect(origins.claimed).toBeGreaterThanOrEqual(runs);
      expect(origins.claimed - runs).toBeLessThanOrEqual(earlier);
      const claimed = origins.claimed;

      const show = <T extends object>(rows: T[]) => rows.slice(0, 4).map((r) => `  ${JSON.stringify(r)}`).join("\n");
      console.log(`[hosted] drained by ${cron.length} pg_cron ticks (+${origins.kicks} ticks asked for by workers after a hand-back): ` +
        `${slices} slices + ${followed!.added} caught up (${claimed} claims, ${handedBack} handed back), ` +
        `${truth.expected} bars equal to the ground truth\n` +
        `cron.job_run_details (${TICK_JOB}):\n${show(cron)}\n` +
        `net._http_response:\n${show(net.map((r) => ({ ...r, content: r.content?.slice(0, 120) })))}\n` +
        `[hosted] pooler peaks (PgBouncer ${pooled.replace(/\/\/[^@]*@/, "//")}): ${peaks.servers} server connections ` +
        `(${peaks.activeServers} in a transaction at once), ${peaks.clients} client connections ` +
        `(${peaks.waitingClients} waiting at once), ${peaks.samples} samples`);
    } finally {
      if (!peaks) await pooler.stop().catch(() => {});
    }
  }, DRAIN_TIMEOUT_MS + 60_000);
});
