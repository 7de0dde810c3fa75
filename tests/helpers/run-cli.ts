/** Runs the jobs CLI as operators do: a subprocess of tsx, with its own environment. */
import { execFile } from "node:child_process";
import { join } from "node:path";
import type { Sql } from "postgres";
import { REPO_ROOT } from "../../scripts/lib/local-host.ts";

const tsx = join(REPO_ROOT, "node_modules/.bin/tsx");

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** `env` replaces the connection variables of this process; pass `undefined` to unset one. */
export function runJobs(args: string[], env: Record<string, string | undefined> = {}): Promise<CliResult> {
  const base = { ...process.env };
  for (const name of [
    "DATABASE_URL", "SUPABASE_URL", "SUPABASE_SERVICE_ROLE_KEY", "SUPABASE_SECRET_KEY", "APCA_API_KEY_ID", "APCA_API_SECRET_KEY", "ALPACA_TRADING_URL",
  ]) delete base[name];
  const merged: Record<string, string> = { ...base, NO_COLOR: "1" } as Record<string, string>;
  for (const [k, v] of Object.entries(env)) {
    if (v === undefined) delete merged[k];
    else merged[k] = v;
  }
  return new Promise((resolve) => {
    execFile(tsx, ["scripts/jobs.ts", ...args], { cwd: REPO_ROOT, env: merged, timeout: 60_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === "number" ? err.code : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

/** Row counts of the queue's tables: "nothing written" means these did not change. */
export async function tableCounts(sql: Sql): Promise<{ definitions: number; runs: number }> {
  const [row] = await sql<{ definitions: number; runs: number }[]>`
    select (select count(*)::int from public.job_definitions) as definitions,
           (select count(*)::int from public.job_runs) as runs`;
  return row!;
}
