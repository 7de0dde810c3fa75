/**
 * The database connection of the jobs CLI: `--db-url`, else DATABASE_URL.
 * The password is registered as a secret before anything can print it.
 */
import type { Command } from "commander";
import postgres, { type Sql, type TransactionSql } from "postgres";
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

/** Carries a rolled-back transaction's result out of sql.begin(). */
class Rollback<T> extends Error {
  constructor(readonly result: T) {
    super("rolled back");
  }
}

/**
 * Runs `fn` in one transaction. With `rollback` (a command's --dry-run) the
 * transaction is rolled back after `fn` has run, and its result is returned
 * all the same: exactly what would have been written, with nothing written.
 */
export async function inTransaction<T>(sql: Sql, rollback: boolean, fn: (tx: TransactionSql) => Promise<T>): Promise<T> {
  try {
    return await sql.begin(async (tx) => {
      const result = await fn(tx);
      if (rollback) throw new Rollback(result);
      return result;
    }) as T;
  } catch (err) {
    if (err instanceof Rollback) return err.result as T;
    throw err;
  }
}
