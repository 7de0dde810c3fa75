/**
 * `npm start`: the whole stack on this machine (see docs/start.md), a backfill
 * planned, the orchestrator ticked until the queue drains, live progress, and a
 * status table at the end. Exit code: 0 when every run succeeded, 1 otherwise,
 * 130/143 when interrupted (running it again resumes), 2 for bad options.
 */
import { CommanderError } from "commander";
import postgres from "postgres";
import { Lifecycle } from "./start/lifecycle.ts";
import { parseOptions, type StartOptions } from "./start/options.ts";
import { createOutput } from "./start/output.ts";
import { runBackfill, type RunResult } from "./start/run.ts";
import { bringUpStack } from "./start/stack.ts";

const out = createOutput();
const life = new Lifecycle(out);
life.installSignalHandlers();

function options(): StartOptions {
  try {
    return parseOptions(process.argv.slice(2), process.env);
  } catch (err) {
    if (err instanceof CommanderError) process.exit(err.exitCode === 0 ? 0 : 2);
    console.error(`npm start: ${(err as Error).message}`);
    process.exit(2);
  }
}

async function main(opts: StartOptions): Promise<RunResult> {
  const stack = await bringUpStack(opts, out, life);
  if (!stack) return { code: 1, drained: false };
  const sql = postgres(stack.db.url, { max: 2, onnotice: () => {} });
  life.defer("the database client", () => sql.end({ timeout: 5 }));
  return await runBackfill({ opts, out, life, sql, stack });
}

const opts = options();
let result: RunResult;
try {
  result = await main(opts);
} catch (err) {
  // A failure caused by the interruption itself (Ctrl-C reaches child processes too) is not news.
  if (!life.signal) out.line(`npm start failed: ${(err as Error).message}`);
  result = { code: 1, drained: false };
}
if (life.signal) out.line("stopping: ticks, functions gateway, simulator, Postgres ...");
await life.stopAll();
// Interrupted before the queue drained: the signal's code; with --keep-running, Ctrl-C is the normal end.
const interrupted = life.exitCodeForSignal();
if (interrupted !== undefined && !result.drained) {
  out.line("stopped. Everything stored is kept; run npm start again to resume.");
  process.exit(interrupted);
}
process.exit(result.code);
