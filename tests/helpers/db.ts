import { randomBytes } from "node:crypto";
import postgres, { type Sql } from "postgres";
import { afterAll, beforeAll, beforeEach, inject } from "vitest";
import { databaseUrl, dropDatabases } from "./admin.ts";

export interface TestDb {
  /** Superuser connection string to this file's own database. */
  url: string;
  /** A pooled client on it (max 10 connections). */
  sql: Sql;
  /** A fresh client, for tests that need their own connections. */
  connect(max?: number): Sql;
  drop(): Promise<void>;
}

/**
 * A private database cloned from the migrated template: tests may commit,
 * and files run concurrently without seeing each other's rows.
 */
export async function createTestDb(): Promise<TestDb> {
  const adminUrl = inject("dbAdminUrl");
  const template = inject("templateDb");
  const name = `bars_test_${template.replace("bars_tpl_", "")}_${randomBytes(4).toString("hex")}`;
  const admin = postgres(adminUrl, { max: 1, onnotice: () => {} });
  try {
    // Two clones of one template at the same instant can collide; try again.
    for (let attempt = 1; ; attempt++) {
      try {
        await admin.unsafe(`create database "${name}" template "${template}"`);
        break;
      } catch (err) {
        if (attempt >= 20) throw err;
        await new Promise((r) => setTimeout(r, 100 * attempt));
      }
    }
  } finally {
    await admin.end();
  }
  const url = databaseUrl(adminUrl, name);
  const clients: Sql[] = [];
  const connect = (max = 10) => {
    const c = postgres(url, { max, onnotice: () => {} });
    clients.push(c);
    return c;
  };
  const sql = connect();
  return {
    url,
    sql,
    connect,
    async drop() {
      await Promise.all(clients.map((c) => c.end({ timeout: 5 })));
      const a = postgres(adminUrl, { max: 1, onnotice: () => {} });
      try {
        await dropDatabases(a, [name]);
      } finally {
        await a.end();
      }
    },
  };
}

export interface UseTestDbOptions {
  /** Tables emptied (`truncate … cascade`) before each test, so every test starts from the template's rows. */
  truncateBeforeEach?: readonly string[];
}

/** A test file's database, as the tests see it: dropping it is the hooks' job. */
export type FileTestDb = Omit<TestDb, "drop">;

/**
 * Registers the hooks that give the calling test file its own database
 * (createTestDb in beforeAll, drop in afterAll, the optional truncate in
 * beforeEach). The returned object reads through to that database, so call it
 * at the top of the file and use it inside hooks and tests: before beforeAll
 * has run there is no database, and touching it throws.
 */
export function useTestDb(opts: UseTestDbOptions = {}): FileTestDb {
  let db: TestDb | undefined;
  const current = (): TestDb => {
    if (!db) throw new Error("useTestDb: the database is created in beforeAll; use it inside hooks and tests");
    return db;
  };
  beforeAll(async () => {
    db = await createTestDb();
  });
  afterAll(async () => {
    // Undefined only when creating it failed, which beforeAll has reported.
    await db?.drop();
  });
  const tables = opts.truncateBeforeEach ?? [];
  if (tables.length > 0) {
    beforeEach(async () => {
      await current().sql.unsafe(`truncate ${tables.join(", ")} cascade`);
    });
  }
  return {
    get url() {
      return current().url;
    },
    get sql() {
      return current().sql;
    },
    connect: (max?: number) => current().connect(max),
  };
}
