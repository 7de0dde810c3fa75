/**
 * The resilience suite's stack: the same parts as tests/helpers/stack.ts (the
 * Alpaca simulator and the real Deno functions gateway), but around a database
 * the test chooses, so one test can run on a Postgres server of its own that it
 * stops and starts mid-run. Also: a tick loop that survives a dead gateway or
 * a dead database, for tests that break things on purpose.
 */
import { randomBytes } from "node:crypto";
import { rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import postgres, { type Sql } from "postgres";
import { DEFAULT_SIM_KEY_ID, DEFAULT_SIM_SECRET, startAlpacaSim, type SimOptions } from "../../scripts/alpaca-sim/index.ts";
import { type EmbeddedDb, startEmbeddedPostgres } from "../../scripts/db/embedded.ts";
import { migrateDatabase } from "../../scripts/db/migrate.ts";
import { findFreePort, type FunctionsGateway, startFunctionsGateway } from "../../scripts/gateway/spawn.ts";
import type { TestDb } from "./db.ts";
import { ANON_KEY, SERVICE_KEY, type Stack, type TickCounts } from "./stack.ts";

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

/**
 * startStack() of tests/helpers/stack.ts on a given database (same env, same
 * invoke/tick/drain/restartGateway behaviour).
 */
export async function startStackOn(db: TestDb, opts: { sim?: SimOptions; env?: Record<string, string> } = {}): Promise<Stack> {
  const sim = await startAlpacaSim(opts.sim);
  const port = await findFreePort();
  const env: Record<string, string> = {
    SUPABASE_DB_URL: db.url,
    SUPABASE_SERVICE_ROLE_KEY: SERVICE_KEY,
    SUPABASE_ANON_KEY: ANON_KEY,
    APCA_API_KEY_ID: DEFAULT_SIM_KEY_ID,
    APCA_API_SECRET_KEY: DEFAULT_SIM_SECRET,
    ALPACA_DATA_URL: sim.url,
    LOG_LEVEL: "info",
    // The orchestrator invokes the workers through the gateway itself.
    SUPABASE_URL: `http://127.0.0.1:${port}`,
    ...opts.env,
  };
  const launch = () => startFunctionsGateway({ env, port });
  let gateway: FunctionsGateway = await launch();

  const invoke = async (fn: string, body?: unknown, key: string | null = SERVICE_KEY) => {
    const res = await fetch(`${gateway.url}/functions/v1/${fn}`, {
      method: "POST",
      headers: { "content-type": "application/json", ...(key ? { apikey: key } : {}) },
      body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
    });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      // not JSON: keep the text
    }
    return { status: res.status, body: parsed };
  };

  const stack: Stack = {
    db,
    sql: db.sql,
    sim,
    get gateway() {
      return gateway;
    },
    env,
    invoke,
    async tick(maxRuns?: number) {
      const res = await invoke("orchestrator", maxRuns ? { maxRuns } : {});
      if (res.status !== 200) throw new Error(`tick failed: ${res.status} ${JSON.stringify(res.body)}`);
      return res.body as TickCounts;
    },
    async drain({ timeoutMs = 120_000, maxRuns = 10, pauseMs = 200 } = {}) {
      return await tickUntilDrained(stack, { timeoutMs, maxRuns, pauseMs, tolerateErrors: false }).then((r) => r.ticks);
    },
    async restartGateway() {
      gateway = await launch();
    },
    async stop() {
      await gateway.stop({ timeoutMs: 5000 }).catch(() => {});
      await sim.close();
      await db.drop();
    },
  };
  return stack;
}

export async function openRuns(sql: Sql): Promise<number> {
  const [{ open }] = await sql`select count(*)::int as open from public.job_runs where status in ('queued', 'running')`;
  return open as number;
}

export interface TickLoopResult {
  ticks: number;
  /** Ticks (or queue reads) that failed: gateway down, database down. */
  errors: number;
  claimed: number;
}

/**
 * Ticks like pg_cron until no run is queued or running. Backoff delays are real
 * time, so due-later runs are made due now. With `tolerateErrors`, a failed tick
 * or query (the gateway or the database is down) is counted and retried; the
 * loop is bounded by `timeoutMs` either way, and stops early when `stop()` says so.
 */
export async function tickUntilDrained(
  stack: Stack,
  opts: { timeoutMs: number; maxRuns?: number; pauseMs?: number; tolerateErrors?: boolean; stop?: () => boolean },
): Promise<TickLoopResult> {
  const { timeoutMs, maxRuns = 10, pauseMs = 200, tolerateErrors = true } = opts;
  const deadline = Date.now() + timeoutMs;
  const result: TickLoopResult = { ticks: 0, errors: 0, claimed: 0 };
  for (;;) {
    if (opts.stop?.()) return result;
    try {
      const open = await openRuns(stack.sql);
      if (open === 0) return result;
      if (Date.now() > deadline) throw new Error(`queue not drained after ${timeoutMs} ms: ${open} runs open`);
      await stack.sql`update public.job_runs set run_after = now() where status = 'queued' and run_after > now()`;
      const counts = await stack.tick(maxRuns);
      result.ticks++;
      result.claimed += counts.claimed;
    } catch (err) {
      if (!tolerateErrors || Date.now() > deadline) throw err;
      result.errors++;
    }
    await new Promise((r) => setTimeout(r, pauseMs));
  }
}
