import { execFile } from "node:child_process";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import postgres from "postgres";
import { REPO_ROOT } from "../lib/local-host.ts";

const run = promisify(execFile);
const bootstrapFile = fileURLToPath(new URL("./bootstrap-local.sql", import.meta.url));

/** True when the database is a Supabase project (it has Supabase's admin role). */
async function isSupabaseDatabase(url: string): Promise<boolean> {
  const sql = postgres(url, { max: 1, onnotice: () => {} });
  try {
    const rows = await sql`select 1 from pg_roles where rolname = 'supabase_admin'`;
    return rows.length > 0;
  } finally {
    await sql.end();
  }
}

/** Creates Supabase's roles and schemas on a plain Postgres. Idempotent. */
export async function bootstrapLocalDatabase(url: string): Promise<void> {
  const sql = postgres(url, { max: 1, onnotice: () => {} });
  try {
    await sql.unsafe(await readFile(bootstrapFile, "utf8"));
  } finally {
    await sql.end();
  }
}

function withSslDisabledForLoopback(url: string): string {
  const u = new URL(url);
  const loopback = ["127.0.0.1", "localhost", "[::1]", "::1"].includes(u.hostname);
  if (loopback && !u.searchParams.has("sslmode")) u.searchParams.set("sslmode", "disable");
  return u.toString();
}

/**
 * Applies supabase/migrations with the real Supabase CLI (`supabase db push`),
 * after bootstrapping Supabase's roles when the target is plain Postgres.
 */
export async function migrateDatabase(url: string): Promise<{ bootstrapped: boolean; output: string }> {
  const bootstrapped = !(await isSupabaseDatabase(url));
  if (bootstrapped) await bootstrapLocalDatabase(url);
  const cli = join(REPO_ROOT, "node_modules/.bin/supabase");
  try {
    const { stdout, stderr } = await run(
      cli,
      ["db", "push", "--db-url", withSslDisabledForLoopback(url), "--include-all", "--yes"],
      { cwd: REPO_ROOT, env: { ...process.env, DO_NOT_TRACK: "1", SUPABASE_TELEMETRY_DISABLED: "1" } },
    );
    return { bootstrapped, output: `${stdout}${stderr}` };
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; message: string };
    throw new Error(`supabase db push failed:\n${redactUrl(`${e.stdout ?? ""}${e.stderr ?? e.message}`)}`);
  }
}

/** Hides passwords in connection strings that appear in messages. */
export function redactUrl(text: string): string {
  return text.replace(/(postgres(?:ql)?:\/\/[^:/@\s]+:)[^@\s]+@/g, "$1***@");
}
