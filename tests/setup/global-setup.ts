/**
 * One real Postgres for the whole run: DATABASE_URL when set, otherwise an
 * embedded Postgres started here. Migrations are applied once, with the real
 * Supabase CLI, into a template database; each test file clones it
 * (graphile-worker's pattern), so files can commit and run concurrently.
 */
import { tmpdir } from "node:os";
import { join } from "node:path";
import postgres from "postgres";
import type { TestProject } from "vitest/node";
import { startEmbeddedPostgres, type EmbeddedDb } from "../../scripts/db/embedded.ts";
import { migrateDatabase } from "../../scripts/db/migrate.ts";
import { databaseUrl, dropDatabases } from "../helpers/admin.ts";

declare module "vitest" {
  export interface ProvidedContext {
    dbAdminUrl: string;
    templateDb: string;
  }
}

let embedded: EmbeddedDb | undefined;
let adminUrl = "";
let templateDb = "";

export async function setup(project: TestProject): Promise<void> {
  if (process.env.DATABASE_URL) {
    adminUrl = process.env.DATABASE_URL;
  } else {
    embedded = await startEmbeddedPostgres({
      dir: join(tmpdir(), `bars-test-pg-${process.pid}`),
      settings: { fsync: "off", synchronous_commit: "off", full_page_writes: "off" },
    });
    adminUrl = embedded.url;
  }
  templateDb = `bars_tpl_${process.pid}`;
  const admin = postgres(adminUrl, { max: 1, onnotice: () => {} });
  try {
    await dropDatabases(admin, [templateDb]);
    await admin.unsafe(`create database ${templateDb}`);
  } finally {
    await admin.end();
  }
  await migrateDatabase(databaseUrl(adminUrl, templateDb));
  project.provide("dbAdminUrl", adminUrl);
  project.provide("templateDb", templateDb);
}

export async function teardown(): Promise<void> {
  if (adminUrl) {
    const admin = postgres(adminUrl, { max: 1, onnotice: () => {} });
    try {
      const leftovers = await admin<{ datname: string }[]>`
        select datname from pg_database where datname like ${`bars_test_${process.pid}_%`}`;
      await dropDatabases(admin, [templateDb, ...leftovers.map((r) => r.datname)]);
    } finally {
      await admin.end();
    }
  }
  await embedded?.stop();
}
