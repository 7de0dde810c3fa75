import { randomBytes } from "node:crypto";
import postgres, { type Sql } from "postgres";
import { inject } from "vitest";
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
