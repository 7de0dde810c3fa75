/**
 * The hosted-like database (scripts/hosted-db/setup.sh: pg_cron, pg_net, Vault,
 * supautils, a non-superuser `postgres`, PgBouncer on 6543) for tests/e2e/hosted:
 * the HOSTED_DB_URL switch, one file at a time on it, resetting the project's
 * state, Vault secrets. The figures the tests print are in hosted-figures.ts.
 */
import { dropProjectObjects } from "./project-objects.ts";
import postgres, { type Sql } from "postgres";
import { migrateDatabase, redactUrl } from "../../scripts/db/migrate.ts";

export const HOSTED_DB_URL = process.env.HOSTED_DB_URL?.trim() || undefined;

export const TICK_JOB = "bars-orchestrator-tick";
export const SWEEPER_JOB = "bars-requeue-expired";
export const FOLLOW_JOB = "bars-follow-catch-up";
export const TICK_SECRETS = ["project_url", "orchestrator_secret_key"] as const;

/** Printed once per file when HOSTED_DB_URL is unset; CI sets it, so there these tests fail rather than skip. */
export function warnSkipped(file: string): void {
  if (HOSTED_DB_URL) return;
  console.warn(
    `${file} skipped: HOSTED_DB_URL is not set. Run sudo scripts/hosted-db/setup.sh, then ` +
      "HOSTED_DB_URL=postgres://postgres@127.0.0.1:54322/postgres npx vitest run tests/e2e/hosted",
  );
}

/** The transaction pooler in front of the same database: HOSTED_DB_POOLED_URL, else port 6543. */
export function pooledUrl(url: string): string {
  if (process.env.HOSTED_DB_POOLED_URL) return process.env.HOSTED_DB_POOLED_URL;
  const u = new URL(url);
  u.port = "6543";
  return u.toString();
}

const LOOPBACK = new Set(["127.0.0.1", "localhost", "[::1]", "::1"]);

/**
 * A client on HOSTED_DB_URL, after checking it is the hosted-like database on
 * this machine (these tests drop the project's objects in it). Throws, never
 * skips: a set HOSTED_DB_URL that does not work is a failure.
 */
export async function connectHostedDb(url: string): Promise<Sql> {
  const host = new URL(url).hostname;
  if (!LOOPBACK.has(host)) {
    throw new Error(`HOSTED_DB_URL must name a database on this machine (scripts/hosted-db/setup.sh), not ${host}: these tests reset it`);
  }
  const sql = postgres(url, { max: 4, connect_timeout: 10, onnotice: () => {} });
  try {
    const [c] = await sql<{ superuser: boolean; admin: boolean; cron_db: string | null; db: string; libs: string | null }[]>`
      select (select rolsuper from pg_roles where rolname = current_user) as superuser,
             exists (select 1 from pg_roles where rolname = 'supabase_admin') as admin,
             (select setting from pg_settings where name = 'cron.database_name') as cron_db,
             current_database() as db,
             (select setting from pg_settings where name = 'shared_preload_libraries') as libs`;
    const problems = [
      c!.superuser && "it connects as a superuser (use postgres, which hosted demotes)",
      !c!.admin && "it has no supabase_admin role",
      c!.cron_db !== c!.db && `pg_cron runs in ${c!.cron_db ?? "(no database: not preloaded)"}, not in ${c!.db}`,
      !/pg_net/.test(c!.libs ?? "") && "pg_net is not preloaded",
    ].filter(Boolean);
    if (problems.length > 0) throw new Error(`HOSTED_DB_URL is not the hosted-like database: ${problems.join("; ")}`);
  } catch (err) {
    await sql.end({ timeout: 1 });
    throw new Error(`HOSTED_DB_URL=${redactUrl(url)} is set but not usable: ${(err as Error).message}. ` +
      "Set it up with sudo scripts/hosted-db/setup.sh (or unset HOSTED_DB_URL to skip these tests).");
  }
  return sql;
}

/**
 * tests/e2e/hosted files share one database and one pg_cron job name: each
 * holds this session lock (on its own connection) while it runs, so files wait
 * for each other whatever the runner's parallelism. Returns the release.
 */
export async function lockHostedDb(url: string): Promise<() => Promise<void>> {
  const lock = postgres(url, { max: 1, onnotice: () => {} });
  await lock`select pg_advisory_lock(hashtext('tests/e2e/hosted'))`;
  return async () => {
    await lock`select pg_advisory_unlock(hashtext('tests/e2e/hosted'))`.catch(() => {});
    await lock.end({ timeout: 5 });
  };
}

/**
 * The project's state back to "migrations just applied": its cron jobs (and
 * their history), the tick's Vault secrets, every object in public and the
 * migration history are removed, then the migrations are pushed again with the
 * Supabase CLI as `postgres`. Extensions (pg_cron, pg_net, Vault) stay.
 */
export async function resetProjectState(sql: Sql, url: string): Promise<void> {
  const [{ cron }] = await sql<{ cron: boolean }[]>`select to_regclass('cron.job') is not null as cron`;
  if (cron) await unscheduleBarsJobs(sql);
  await deleteVaultSecrets(sql, [...TICK_SECRETS]);
  await sql.unsafe("drop schema if exists supabase_migrations cascade");
  await dropProjectObjects(sql);
  await migrateDatabase(url);
}

/** The project's jobs owned by the current role, with their run history. */
export async function unscheduleBarsJobs(sql: Sql): Promise<void> {
  const names = [TICK_JOB, SWEEPER_JOB, FOLLOW_JOB];
  await sql`delete from cron.job_run_details where jobid in
              (select jobid from cron.job where jobname = any(${names}::text[]) and username = current_user)`;
  await sql`select cron.unschedule(jobid) from cron.job where jobname = any(${names}::text[]) and username = current_user`;
}

/** Creates the Vault secret, or gives the existing one this value. */
export async function setVaultSecret(sql: Sql, name: string, value: string): Promise<void> {
  const [existing] = await sql<{ id: string }[]>`select id::text from vault.secrets where name = ${name}`;
  if (existing) await sql`select vault.update_secret(${existing.id}::uuid, ${value})`;
  else await sql`select vault.create_secret(${value}, ${name})`;
}

export async function deleteVaultSecrets(sql: Sql, names: string[]): Promise<void> {
  await sql`delete from vault.secrets where name in ${sql(names)}`;
}
