/**
 * The database connection of the jobs CLI: `--db-url`, else DATABASE_URL.
 * The password is registered as a secret before anything can print it.
 */
import type { Command } from "commander";
import postgres, { type Sql } from "postgres";
import { registerSecret, UsageError } from "./cli-errors.ts";

export interface DbOptions {
  dbUrl?: string;
}

export function addDbOption(cmd: Command): Command {
  return cmd.option("--db-url <url>", "Postgres connection string (default: $DATABASE_URL)");
}

/** The connection string, or undefined when neither --db-url nor DATABASE_URL is set. */
export function findDbUrl(opts: DbOptions): string | undefined {
  const url = opts.dbUrl ?? process.env.DATABASE_URL;
  if (!url) return undefined;
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new UsageError(`${opts.dbUrl ? "--db-url" : "DATABASE_URL"}: not a URL (expected postgres://user:password@host:port/database)`);
  }
  registerSecret(decodeURIComponent(parsed.password));
  if (!["postgres:", "postgresql:"].includes(parsed.protocol)) {
    throw new UsageError(`${opts.dbUrl ? "--db-url" : "DATABASE_URL"}: expected a postgres:// URL, got ${parsed.protocol}//…`);
  }
  return url;
}

export function requireDbUrl(opts: DbOptions): string {
  const url = findDbUrl(opts);
  if (!url) throw new UsageError("no database: pass --db-url <postgres://…> or set DATABASE_URL");
  return url;
}

/** Runs `fn` with a small connection and always closes it. */
export async function withDb<T>(url: string, fn: (sql: Sql) => Promise<T>): Promise<T> {
  // prepare: false keeps the CLI usable through Supabase's transaction pooler.
  const sql = postgres(url, { max: 2, onnotice: () => {}, prepare: false, connect_timeout: 15 });
  try {
    return await fn(sql);
  } finally {
    await sql.end({ timeout: 5 });
  }
}
