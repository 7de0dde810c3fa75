/**
 * The resilience suite's extras: a Postgres server of the test's own that it
 * can stop and start mid-run, and a TestDb over it (the stack itself is
 * tests/helpers/stack.ts's startStackOn).
 */
import { randomBytes } from "node:crypto";
import { rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import postgres, { type Sql } from "postgres";
import { type EmbeddedDb, startEmbeddedPostgres } from "../../scripts/db/embedded.ts";
import { migrateDatabase } from "../../scripts/db/migrate.ts";
import type { TestDb } from "./db.ts";

/** A Postgres server of the test's own (persistent data directory), migrated, that can be restarted. */
export interface RestartablePostgres {
  url: string;
  port: number;
  /** Stops the server (fast shutdown: sessions are cut), waits `downMs`, starts it again on the same port. */
  restart(downMs?: number): Promise<void>;
  /** Stops the server and deletes its data directory. */
  destroy(): Promise<void>;
}

const FAST_SETTINGS = { fsync: "off", synchronous_commit: "off", full_page_writes: "off", max_connections: 100 };

export async function startRestartablePostgres(): Promise<RestartablePostgres> {
  const dir = join(tmpdir(), `bars-resilience-pg-${process.pid}-${randomBytes(3).toString("hex")}`);
  let server: EmbeddedDb | undefined = await startEmbeddedPostgres({ dir, persistent: true, settings: FAST_SETTINGS });
  const { url, port } = server;
  await migrateDatabase(url);
  return {
    url,
    port,
    async restart(downMs = 1000) {
      await server?.stop();
      server = undefined;
      await new Promise((r) => setTimeout(r, downMs));
      server = await startEmbeddedPostgres({ dir, port, persistent: true, settings: FAST_SETTINGS });
    },
    async destroy() {
      await server?.stop().catch(() => {});
      server = undefined;
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** A TestDb over a database someone else owns (dropping it only closes the clients). */
export function externalTestDb(url: string): TestDb {
  const clients: Sql[] = [];
  const connect = (max = 10) => {
    const c = postgres(url, { max, onnotice: () => {}, connect_timeout: 5 });
    clients.push(c);
    return c;
  };
  return {
    url,
    sql: connect(),
    connect,
    async drop() {
      await Promise.all(clients.map((c) => c.end({ timeout: 5 })));
    },
  };
}

export { openRuns, startStackOn, tickUntilDrained, type TickLoopResult } from "./stack.ts";
