import type { Sql } from "postgres";

/** The same server and credentials, another database. */
export function databaseUrl(baseUrl: string, database: string): string {
  const u = new URL(baseUrl);
  u.pathname = `/${database}`;
  return u.toString();
}

/** Drops databases, disconnecting anyone still connected. */
export async function dropDatabases(admin: Sql, names: string[]): Promise<void> {
  for (const name of names) {
    await admin.unsafe(`drop database if exists "${name}" with (force)`);
  }
}
