/**
 * Figure 2, throughput under the free plan's limit. The simulator enforces
 * 200 requests per (scaled) minute; the product's shared budget is set to the
 * same bucket (ALPACA_REQUESTS_PER_MINUTE = 200 x timeScale, ALPACA_BURST =
 * 200). Both buckets are emptied before the window starts, so the window
 * measures the steady state, not the first minute's burst. The real stack
 * (orchestrator, workers, simulator) backfills the seed baskets; bars stored
 * per scaled minute are compared with the ceiling 200 x 10,000 and with the
 * script a user would write instead: the official SDK's
 * `collectStockBarsBySymbol` per symbol, then one INSERT per bar.
 * Ours and the naive script alternate round by round.
 * Longer than most files: one figure, ours and the baseline measured side by side in one run.
 */
import { Alpaca, TimeFrame } from "@alpacahq/alpaca-trade-api";
import type { Sql } from "postgres";
import { DEFAULT_SIM_KEY_ID, DEFAULT_SIM_SECRET, startAlpacaSim, type AlpacaSim } from "../scripts/alpaca-sim/index.ts";
import { ALPACA_DATA_HOST } from "../supabase/functions/_shared/alpaca/config.ts";
import type { FigureContext, FigureResult } from "./lib/context.ts";
import { limitMetric, metric } from "./lib/metrics.ts";
import { planSeed, SEED_BASKETS } from "./lib/seed.ts";
import { drainByTicking, startBenchStack } from "./lib/stack.ts";
import { fmt, sleep, sum } from "./lib/stats.ts";

const FREE_PLAN_PER_MIN = 200;
const PAGE_LIMIT = 10_000;
const CEILING_PER_MIN = FREE_PLAN_PER_MIN * PAGE_LIMIT;
const RANGE = { start: "2023-09-01T04:00:00Z", end: "2024-01-01T05:00:00Z" };
const HEADERS = { "APCA-API-KEY-ID": DEFAULT_SIM_KEY_ID, "APCA-API-SECRET-KEY": DEFAULT_SIM_SECRET };

interface Settings {
  rounds: number;
  /** Refill speed of both buckets (2 = a "minute" lasts 30 s). */
  timeScale: number;
  /** Real seconds measured per round, ours and naive. */
  oursSeconds: number;
  naiveSeconds: number;
  inFlight: number;
}

/** Spends the simulator's bucket: cheap requests until the first 429. */
export async function emptySimBucket(sim: AlpacaSim, capacity = FREE_PLAN_PER_MIN): Promise<void> {
  const url = `${sim.url}/v2/stocks/AAPL/bars?timeframe=1Day&start=2024-03-01T00:00:00Z&end=2024-03-02T00:00:00Z&limit=1`;
  let limited = false;
  for (let i = 0; i < capacity / 20 + 100 && !limited; i++) {
    const statuses = await Promise.all(Array.from({ length: 20 }, async () => {
      const res = await fetch(url, { headers: HEADERS });
      await res.arrayBuffer();
      return res.status;
    }));
    limited = statuses.includes(429);
  }
  if (!limited) throw new Error("could not empty the simulator's rate bucket");
}

/** Empties the product's shared bucket (the row the workers take tokens from). */
export async function emptyProductBucket(sql: Sql, perMinute: number, capacity = FREE_PLAN_PER_MIN): Promise<void> {
  await sql`insert into public.rate_buckets (name, tokens, capacity, per_minute, updated_at)
            values ('alpaca', 0, ${capacity}, ${perMinute}, clock_timestamp())
            on conflict (name) do update set tokens = 0, updated_at = clock_timestamp()`;
}

interface Round {
  barsPerScaledMinute: number;
  requestsPerScaledMinute: number;
  barsPerRequest: number;
  rateLimited: number;
}

async function oursRound(ctx: FigureContext, s: Settings): Promise<Round> {
  const db = await ctx.pg.createDatabase("throughput");
  try {
    await planSeed(db.sql, RANGE.start, RANGE.end);
    const perMinute = Math.round(FREE_PLAN_PER_MIN * s.timeScale);
    const stack = await startBenchStack(db, {
      sim: { rateLimitPerMin: FREE_PLAN_PER_MIN, timeScale: s.timeScale },
      env: {
        ALPACA_REQUESTS_PER_MINUTE: String(perMinute),
        ALPACA_BURST: String(FREE_PLAN_PER_MIN),
        ORCHESTRATOR_MAX_IN_FLIGHT: String(s.inFlight),
        LOG_LEVEL: "warn",
      },
    });
    try {
      await emptySimBucket(stack.sim);
      await emptyProductBucket(db.sql, perMinute);
      stack.sim.resetStats();
      const started = Date.now();
      const end = started + s.oursSeconds * 1000;
      const drained = await drainByTicking(stack, { timeoutMs: s.oursSeconds * 1000 + 5000, stopWhen: () => Date.now() >= end });
      const [{ bars }] = await db.sql<{ bars: string }[]>`select coalesce(sum(rows_written), 0)::text as bars from public.job_runs`;
      const seconds = (Date.now() - started) / 1000;
      const stats = stack.sim.stats();
      if (drained.ms < s.oursSeconds * 1000 - 1000) ctx.log("  warning: the planned range ran out before the window ended");
      const scaledMinutes = (seconds * s.timeScale) / 60;
      const ok = stats.byStatus[200] ?? 0;
      return {
        barsPerScaledMinute: Number(bars) / scaledMinutes,
        requestsPerScaledMinute: stats.requests / scaledMinutes,
        barsPerRequest: ok ? stats.barsServed / ok : 0,
        rateLimited: stats.rateLimited,
      };
    } finally {
      // In-flight slices are abandoned with the database.
      stack.gateway.kill("SIGKILL");
      await stack.stop();
    }
  } finally {
    await db.drop();
  }
}

/** What a user would write: the SDK's collect helper per symbol, then an INSERT per bar. */
async function naiveRound(ctx: FigureContext, s: Settings): Promise<Round> {
  const db = await ctx.pg.createDatabase("naive");
  const sim = await startAlpacaSim({ rateLimitPerMin: FREE_PLAN_PER_MIN, timeScale: s.timeScale });
  const sql = db.connect(1);
  try {
    const alpaca = new Alpaca({
      keyId: DEFAULT_SIM_KEY_ID,
      secret: DEFAULT_SIM_SECRET,
      // The SDK's own limiter (200 per minute by default), scaled like the simulator's.
      rateLimit: { maxRequests: FREE_PLAN_PER_MIN, intervalMs: 60_000 / s.timeScale },
      // The SDK's Alpaca facade has no base-URL option for market data: rewrite the host.
      middleware: [{ pre: ({ url, init }) => Promise.resolve({ url: url.replace(ALPACA_DATA_HOST, sim.url), init }) }],
    });
    const started = Date.now();
    const end = started + s.naiveSeconds * 1000;
    let stored = 0;
    outer: for (const symbol of SEED_BASKETS.flatMap((b) => b.symbols)) {
      const bySymbol = await alpaca.marketData.collectStockBarsBySymbol({
        symbols: [symbol], timeframe: TimeFrame.Minute, start: new Date(RANGE.start), end: new Date(RANGE.end), feed: "sip",
      });
      for (const bar of bySymbol[symbol] ?? []) {
        if (Date.now() >= end) break outer;
        await sql`insert into public.bars (symbol, timeframe, ts, open, high, low, close, volume, trade_count, vwap)
                  values (${symbol}, '1Min', ${String(bar.t)}, ${bar.o}, ${bar.h}, ${bar.l}, ${bar.c}, ${bar.v}, ${bar.n}, ${bar.vw})
                  on conflict (symbol, timeframe, ts) do nothing`;
        stored++;
      }
    }
    const seconds = (Date.now() - started) / 1000;
    const stats = sim.stats();
    const scaledMinutes = (seconds * s.timeScale) / 60;
    const ok = stats.byStatus[200] ?? 0;
    return {
      barsPerScaledMinute: stored / scaledMinutes,
      requestsPerScaledMinute: stats.requests / scaledMinutes,
      barsPerRequest: ok ? stats.barsServed / ok : 0,
      rateLimited: stats.rateLimited,
    };
  } finally {
    await sim.close();
    await db.drop();
  }
}

export async function throughput(ctx: FigureContext): Promise<FigureResult> {
  const s: Settings = ctx.quick
    ? { rounds: 1, timeScale: 1, oursSeconds: 20, naiveSeconds: 6, inFlight: 8 }
    : { rounds: 3, timeScale: 1, oursSeconds: 60, naiveSeconds: 15, inFlight: 8 };
  const ours: Round[] = [];
  const naive: Round[] = [];
  for (let r = 0; r < s.rounds; r++) {
    if (r % 2 === 0) {
      ours.push(await oursRound(ctx, s));
      naive.push(await naiveRound(ctx, s));
    } else {
      naive.push(await naiveRound(ctx, s));
      ours.push(await oursRound(ctx, s));
    }
    const o = ours.at(-1)!, n = naive.at(-1)!;
    ctx.log(`  round ${r + 1}/${s.rounds}: ours ${fmt(o.barsPerScaledMinute)} bars/min (${fmt(o.requestsPerScaledMinute)} req/min, ` +
      `${fmt(o.barsPerRequest)} bars/req, ${o.rateLimited} × 429); naive ${fmt(n.barsPerScaledMinute)} bars/min ` +
      `(${fmt(n.requestsPerScaledMinute)} req/min, ${n.rateLimited} × 429)`);
    await sleep(200);
  }
  const note = `seed baskets (61 symbols, 1Min), ${s.rounds} round(s) of ${s.oursSeconds} s (ours) and ${s.naiveSeconds} s (naive) ` +
    `at timeScale ${s.timeScale}; both buckets emptied before each window of ours (the naive script starts with a full bucket); ` +
    `ours used ${fmt(ours.map((o) => o.requestsPerScaledMinute).sort((a, b) => a - b)[Math.floor(ours.length / 2)])} requests per ` +
    `scaled minute of ${FREE_PLAN_PER_MIN} at ${fmt(ours.map((o) => o.barsPerRequest).sort((a, b) => a - b)[Math.floor(ours.length / 2)])} bars per request`;
  const oursValues = ours.map((o) => o.barsPerScaledMinute);
  return {
    metrics: [
      limitMetric({
        figure: 2, name: "throughput vs ceiling (200 req/min × 10,000)", unit: "bars/min", values: oursValues,
        limitName: "ceiling", limit: CEILING_PER_MIN,
        target: { on: "ratio", op: ">=", x: 0.95, text: "≥ 0.95× ceiling" }, note,
      }),
      metric({
        figure: 2, name: "throughput vs naive SDK script", unit: "bars/min", values: oursValues,
        baselineName: "collectStockBarsBySymbol + row INSERTs", baselineValues: naive.map((n) => n.barsPerScaledMinute),
      }),
      metric({
        figure: 2, name: "throughput: 429 responses (ours, all rounds)", unit: "responses", values: [sum(ours.map((o) => o.rateLimited))],
        baselineName: "naive script", baselineValues: [sum(naive.map((n) => n.rateLimited))],
        target: { on: "value", op: "<=", x: 0, text: "0" },
      }),
    ],
    details: { settings: s, ours, naive, ceiling_bars_per_minute: CEILING_PER_MIN },
  };
}
