/**
 * The whole stack for end-to-end tests: a private Postgres database, the Alpaca
 * simulator, and the functions served by real Deno through the local gateway.
 */
import type { Sql } from "postgres";
import { DEFAULT_SIM_KEY_ID, DEFAULT_SIM_SECRET, startAlpacaSim, type AlpacaSim, type SimOptions } from "../../scripts/alpaca-sim/index.ts";
import { expectedBars } from "../../scripts/alpaca-sim/ground-truth.ts";
import { startFunctionsGateway, type FunctionsGateway } from "../../scripts/gateway/spawn.ts";
import { freePort as findFreePort } from "../../scripts/lib/local-host.ts";
import { createTestDb, type TestDb } from "./db.ts";

export const SERVICE_KEY = "test-service-key-0123456789";
export const ANON_KEY = "test-anon-key-0123456789";

export interface StackOptions {
  sim?: SimOptions;
  env?: Record<string, string>;
}

export interface Stack {
  db: TestDb;
  sql: Sql;
  sim: AlpacaSim;
  gateway: FunctionsGateway;
  env: Record<string, string>;
  invoke(fn: string, body?: unknown, key?: string | null): Promise<{ status: number; body: unknown }>;
  tick(maxRuns?: number): Promise<TickCounts>;
  /** Ticks until no run is queued or running; throws after `timeoutMs`. */
  drain(opts?: { timeoutMs?: number; maxRuns?: number; pauseMs?: number }): Promise<number>;
  restartGateway(): Promise<void>;
  stop(): Promise<void>;
}

import type { TickCounts } from "../../supabase/functions/orchestrator/handler.ts";
export type { TickCounts };

export async function startStack(opts: StackOptions = {}): Promise<Stack> {
  return await startStackOn(await createTestDb(), opts);
}

/** startStack() on a given database; `stack.stop()` calls `db.drop()`. */
export async function startStackOn(db: TestDb, opts: StackOptions = {}): Promise<Stack> {
  const sim = await startAlpacaSim(opts.sim);
  // SUPABASE_URL must point at the gateway itself (the orchestrator invokes workers
  // through it), so the port is chosen first and kept across restarts.
  const port = await findFreePort();
  const env: Record<string, string> = {
    SUPABASE_DB_URL: db.url,
    SUPABASE_URL: `http://127.0.0.1:${port}`,
    SUPABASE_SERVICE_ROLE_KEY: SERVICE_KEY,
    SUPABASE_ANON_KEY: ANON_KEY,
    APCA_API_KEY_ID: DEFAULT_SIM_KEY_ID,
    APCA_API_SECRET_KEY: DEFAULT_SIM_SECRET,
    ALPACA_DATA_URL: sim.url,
    ALPACA_TRADING_URL: sim.tradingUrl,
    LOG_LEVEL: "info",
    ...opts.env,
  };
  const launch = () => startFunctionsGateway({ env, port });
  let gateway = await launch();

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
      const result = await tickUntilDrained(stack, { timeoutMs, maxRuns, pauseMs, tolerateErrors: false });
      return result.ticks;
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
 * time, so due-later runs are made due now (not those waiting after an idle hand-back). With `tolerateErrors`, a failed tick
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
      // Failure backoffs are skipped to keep tests quick; an idle hand-back's
      // delay is not: it is what keeps a run from bouncing off an isolate that
      // has no budget left while a fresher one takes over.
      await stack.sql`update public.job_runs set run_after = now()
                       where status = 'queued' and run_after > now() and idle_handbacks = 0`;
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

/** Every bar stored vs the simulator's ground truth, for each definition's whole range. */
export async function compareWithGroundTruth(sql: Sql): Promise<{ expected: number; stored: number; missing: number; extra: number; different: number }> {
  const defs = await sql<{ symbols: string[]; timeframe: string; feed: string; adjustment: string; range_start: Date; range_end: Date }[]>`
    select public.job_definition_symbols(d) as symbols, d.timeframe, d.feed, d.adjustment, d.range_start, d.range_end
      from public.job_definitions d`;
  let expected = 0, missing = 0, extra = 0, different = 0, stored = 0;
  for (const d of defs) {
    const rows = await sql<{ symbol: string; ts: Date; open: number; high: number; low: number; close: number; volume: string; trade_count: string; vwap: number }[]>`
      select * from public.bars where symbol in ${sql(d.symbols)} and timeframe = ${d.timeframe}
         and ts >= ${d.range_start} and ts < ${d.range_end}`;
    stored += rows.length;
    const have = new Map(rows.map((r) => [`${r.symbol}|${r.ts.toISOString().replace(".000Z", "Z")}`, r]));
    for (const bar of expectedBars({
      symbols: d.symbols, timeframe: d.timeframe, feed: d.feed as never, adjustment: d.adjustment,
      start: d.range_start.toISOString(), end: new Date(d.range_end.getTime() - 1).toISOString(),
    })) {
      expected++;
      const key = `${bar.symbol}|${bar.t}`;
      const r = have.get(key);
      if (!r) {
        missing++;
        continue;
      }
      have.delete(key);
      if (r.open !== bar.o || r.high !== bar.h || r.low !== bar.l || r.close !== bar.c || Number(r.volume) !== bar.v ||
          Number(r.trade_count) !== bar.n || r.vwap !== bar.vw) different++;
    }
    extra += have.size;
  }
  return { expected, stored, missing, extra, different };
}

/** Rows in bars that share (symbol, timeframe, ts): the primary key makes this 0 unless the schema broke. */
export async function duplicateBars(sql: Sql): Promise<number> {
  const [{ n }] = await sql`select count(*)::int as n from (select 1 from public.bars group by symbol, timeframe, ts having count(*) > 1) d`;
  return n;
}
