/**
 * `--scheduler cron`: the database's own pg_cron ticks this run's functions
 * gateway, as on hosted Supabase, and nothing ticks locally. The Vault secrets
 * the tick reads (project_url, orchestrator_secret_key) are pointed at the
 * gateway and its service key, and both jobs are scheduled with the
 * migration's setup functions. restore() puts back what was changed: jobs
 * scheduled here are unscheduled, jobs that were there before keep (or get
 * back) their schedule and command, and each secret gets its previous value,
 * or is deleted when it did not exist.
 *
 * pg_net connects from the database server, so the database must run on this
 * machine (scripts/hosted-db/setup.sh sets one up).
 */
import type { Sql } from "postgres";

const TICK_JOB = "bars-orchestrator-tick";
const JOBS = [TICK_JOB, "bars-requeue-expired"];
const SECRETS = ["project_url", "orchestrator_secret_key"];
const LOOPBACK = new Set(["127.0.0.1", "localhost", "[::1]", "::1"]);

export interface CronTakeover {
  /** What the setup functions reported, one line each. */
  report: string[];
  /** Seconds until pg_cron's next minute boundary, as the database's clock has it. */
  firstTickInSeconds: number;
  /** Tick failures since the takeover not reported yet: failed job runs and pg_net errors. */
  newProblems(): Promise<string[]>;
  /** Undoes the takeover; returns one line per thing it did. */
  restore(): Promise<string[]>;
}

interface Job { jobid: number; jobname: string; schedule: string; command: string }

/** Why `--scheduler cron` cannot use this DATABASE_URL, before anything starts; undefined when it may. */
export function cronDatabaseProblem(databaseUrl: string | undefined): string | undefined {
  if (!databaseUrl) {
    return "--scheduler cron needs DATABASE_URL: a database on this machine with pg_cron, pg_net and Vault " +
      "(scripts/hosted-db/setup.sh sets one up); the embedded Postgres has none of them";
  }
  let host: string;
  try {
    host = new URL(databaseUrl).hostname;
  } catch {
    return undefined; // DATABASE_URL's own check reports it
  }
  if (LOOPBACK.has(host)) return undefined;
  return `--scheduler cron: pg_cron would tick this machine's functions gateway, which pg_net on the database ` +
    `server ${host} cannot reach; use a database on this machine (scripts/hosted-db/setup.sh), or --scheduler auto ` +
    "with deployed functions and Vault secrets of your own";
}

/** Throws, saying what is missing, unless the database has pg_cron, pg_net, Vault and the setup functions. */
export async function checkPgCronPrerequisites(sql: Sql): Promise<void> {
  const [have] = await sql<{ cron: boolean; net: boolean; vault: boolean; setup: boolean }[]>`
    select to_regprocedure('cron.schedule(text, text, text)') is not null as cron,
           to_regprocedure('net.http_post(text, jsonb, jsonb, jsonb, integer)') is not null as net,
           to_regclass('vault.decrypted_secrets') is not null as vault,
           to_regprocedure('public.setup_orchestrator_tick_cron(text, integer)') is not null
             and to_regprocedure('public.setup_lease_sweeper_cron(text)') is not null as setup`;
  const missing = [
    !have!.cron && "pg_cron is not installed in this database",
    !have!.net && "pg_net is not installed",
    !have!.vault && "Vault is not installed",
    !have!.setup && "the migrations' setup functions are missing",
  ].filter(Boolean);
  if (missing.length > 0) {
    throw new Error(`pg_cron cannot tick here: ${missing.join("; ")} (scripts/hosted-db/setup.sh sets up a database that has all of them)`);
  }
}

export async function takeOverPgCron(
  sql: Sql,
  opts: { databaseUrl: string; gatewayUrl: string; serviceKey: string },
): Promise<CronTakeover> {
  const problem = cronDatabaseProblem(opts.databaseUrl);
  if (problem) throw new Error(problem);
  await checkPgCronPrerequisites(sql);

  const jobsBefore = await sql<Job[]>`
    select jobid::int, jobname, schedule, command from cron.job where jobname in ${sql(JOBS)} and username = current_user`;
  const secretsBefore = await sql<{ id: string; name: string; value: string }[]>`
    select id::text, name, decrypted_secret as value from vault.decrypted_secrets where name in ${sql(SECRETS)}`;
  const [{ since, baseline }] = await sql<{ since: Date; baseline: string }[]>`
    select now() as since, coalesce((select max(id) from net._http_response), 0)::text as baseline`;

  const restore = async (): Promise<string[]> => {
    const done: string[] = [];
    const jobsNow = await sql<Job[]>`
      select jobid::int, jobname, schedule, command from cron.job where jobname in ${sql(JOBS)} and username = current_user`;
    for (const job of jobsNow) {
      const before = jobsBefore.find((j) => j.jobname === job.jobname);
      if (!before) {
        await sql`select cron.unschedule(${job.jobid}::bigint)`;
        done.push(`pg_cron: unscheduled ${job.jobname} (job ${job.jobid}), scheduled by this run`);
      } else if (before.schedule !== job.schedule || before.command !== job.command) {
        await sql`select cron.schedule(${job.jobname}, ${before.schedule}, ${before.command})`;
        done.push(`pg_cron: ${job.jobname} (job ${job.jobid}) back to its schedule from before this run`);
      } else {
        done.push(`pg_cron: kept ${job.jobname} (job ${job.jobid}): it was scheduled before this run`);
      }
    }
    const changed: string[] = [];
    for (const name of SECRETS) {
      const before = secretsBefore.find((s) => s.name === name);
      if (before) await sql`select vault.update_secret(${before.id}::uuid, ${before.value})`;
      else await sql`delete from vault.secrets where name = ${name}`;
      changed.push(`${before ? "restored" : "deleted"} ${name}`);
    }
    done.push(`Vault: ${changed.join(", ")}`);
    return done;
  };

  let report: string[] = [];
  try {
    await sql.begin(async (tx) => {
      for (const [name, value] of [["project_url", opts.gatewayUrl], ["orchestrator_secret_key", opts.serviceKey]] as const) {
        const before = secretsBefore.find((s) => s.name === name);
        if (before) await tx`select vault.update_secret(${before.id}::uuid, ${value})`;
        else await tx`select vault.create_secret(${value}, ${name})`;
      }
    });
    const [row] = await sql<{ sweeper: string; tick: string }[]>`
      select public.setup_lease_sweeper_cron() as sweeper, public.setup_orchestrator_tick_cron() as tick`;
    report = [row!.sweeper, row!.tick];
    if (!row!.tick.startsWith(`scheduled ${TICK_JOB}`)) throw new Error(row!.tick);
  } catch (err) {
    await restore().catch(() => []);
    throw new Error(`pg_cron cannot tick here: ${(err as Error).message}`);
  }

  const [{ seconds }] = await sql<{ seconds: number }[]>`
    select ceil(extract(epoch from date_trunc('minute', now()) + interval '1 minute' - now()))::int as seconds`;
  let lastRun = "0";
  let lastResponse = baseline;
  return {
    report,
    firstTickInSeconds: seconds,
    async newProblems() {
      const failed = await sql<{ runid: string; message: string }[]>`
        select d.runid::text, d.return_message as message from cron.job_run_details d join cron.job j using (jobid)
         where j.jobname = ${TICK_JOB} and j.username = current_user and d.status = 'failed'
           and d.start_time >= ${since} and d.runid > ${lastRun}::bigint order by d.runid`;
      const responses = await sql<{ id: string; status: number | null; error: string | null }[]>`
        select id::text, status_code as status, error_msg as error from net._http_response
         where id > ${lastResponse}::bigint order by id`;
      if (failed.length > 0) lastRun = failed.at(-1)!.runid;
      if (responses.length > 0) lastResponse = responses.at(-1)!.id;
      return [
        ...failed.map((f) => `pg_cron: ${TICK_JOB} failed: ${f.message.split("\n")[0]}`),
        ...responses.filter((r) => r.status !== 200)
          .map((r) => `pg_net: the tick got ${r.status ?? "no response"}${r.error ? `: ${r.error}` : ""}`),
      ];
    },
    restore,
  };
}
