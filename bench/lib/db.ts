/**
 * The benchmark's Postgres: DATABASE_URL's server when set (e.g. the machine's
 * Postgres 15), else an embedded Postgres started here. Migrations are applied
 * once into a template database; every figure clones it into databases it
 * creates and drops, so nothing outside `bench_*` databases is touched.
 * (tests/helpers/db.ts does the same through vitest's `inject`, which a plain
 * script cannot use.)
 */
import { randomBytes } from "node:crypto";
import { tmpdir } from "node:os";
import { join } from "node:path";
import postgres, { type Sql } from "postgres";
import { startEmbeddedPostgres, type EmbeddedDb } from "../../scripts/db/embedded.ts";
import { migrateDatabase } from "../../scripts/db/migrate.ts";

export interface BenchDatabase {
  name: string;
  url: string;
  /** A pooled client on it. */
  sql: Sql;
  /** A further client; ended by drop(). */
  connect(max?: number, opts?: postgres.Options<Record<string, postgres.PostgresType>>): Sql;
  drop(): Promise<void>;
}

export interface BenchPostgres {
  adminUrl: string;
  /** "embedded" or "DATABASE_URL". */
  source: string;
  version: string;
  settings: Record<string, string>;
  /** A fresh database: a clone of the migrated template, or empty with `empty: true`. */
  createDatabase(label: string, opts?: { empty?: boolean }): Promise<BenchDatabase>;
  stop(): Promise<void>;
}

export function databaseUrl(baseUrl: string, database: string): string {
  const u = new URL(baseUrl);
  u.pathname = `/${database}`;
  return u.toString();
}

const quiet = { onnotice: () => {} };
const RUN_ID = `${process.pid}_${randomBytes(2).toString("hex")}`;

/** Settings for an embedded server: durable like production (fsync on), but with room to work. */
const EMBEDDED_SETTINGS = {
  shared_buffers: "1GB",
  max_connections: 200,
  max_wal_size: "4GB",
  checkpoint_timeout: "15min",
  maintenance_work_mem: "256MB",
};

export async function startBenchPostgres(log: (line: string) => void): Promise<BenchPostgres> {
  let embedded: EmbeddedDb | undefined;
  let adminUrl: string;
  let source: string;
  if (process.env.DATABASE_URL) {
    adminUrl = process.env.DATABASE_URL;
    source = "DATABASE_URL";
  } else {
    log("starting an embedded Postgres (set DATABASE_URL to use an existing server)");
    embedded = await startEmbeddedPostgres({ dir: join(tmpdir(), `bars-bench-pg-${process.pid}`), settings: EMBEDDED_SETTINGS });
    adminUrl = embedded.url;
    source = "embedded";
  }
  const admin = postgres(adminUrl, { max: 1, ...quiet });
  const created: string[] = [];
  const template = `bench_tpl_${RUN_ID}`;
  try {
    const [{ version }] = await admin<{ version: string }[]>`select version()`;
    const rows = await admin<{ name: string; setting: string }[]>`
      select name, current_setting(name) as setting from pg_settings
       where name in ('shared_buffers', 'synchronous_commit', 'fsync', 'max_connections', 'work_mem', 'max_wal_size', 'server_version')`;
    const settings = Object.fromEntries(rows.map((r) => [r.name, r.setting]));
    log(`Postgres (${source}): ${version.split(",")[0]}; migrating a template database with the Supabase CLI`);
    await admin.unsafe(`create database "${template}"`);
    created.push(template);
    await migrateDatabase(databaseUrl(adminUrl, template));

    const dropDatabase = async (name: string) => {
      await admin.unsafe(`drop database if exists "${name}" with (force)`);
      const i = created.indexOf(name);
      if (i >= 0) created.splice(i, 1);
    };

    return {
      adminUrl,
      source,
      version,
      settings,
      async createDatabase(label, opts = {}) {
        const name = `bench_${label}_${RUN_ID}_${randomBytes(2).toString("hex")}`.toLowerCase();
        for (let attempt = 1; ; attempt++) {
          try {
            await admin.unsafe(opts.empty ? `create database "${name}"` : `create database "${name}" template "${template}"`);
            break;
          } catch (err) {
            // Cloning needs the template free of sessions; a just-closed one may linger briefly.
            if (attempt >= 20) throw err;
            await new Promise((r) => setTimeout(r, 100 * attempt));
          }
        }
        created.push(name);
        const url = databaseUrl(adminUrl, name);
        const clients: Sql[] = [];
        const connect: BenchDatabase["connect"] = (max = 10, o = {}) => {
          const c = postgres(url, { max, ...quiet, ...o });
          clients.push(c);
          return c;
        };
        return {
          name,
          url,
          sql: connect(),
          connect,
          async drop() {
            await Promise.all(clients.map((c) => c.end({ timeout: 5 })));
            await dropDatabase(name);
          },
        };
      },
      async stop() {
        for (const name of [...created].reverse()) await dropDatabase(name).catch(() => {});
        await admin.end({ timeout: 5 });
        await embedded?.stop();
      },
    };
  } catch (err) {
    for (const name of created) await admin.unsafe(`drop database if exists "${name}" with (force)`).catch(() => {});
    await admin.end({ timeout: 5 });
    await embedded?.stop();
    throw err;
  }
}
