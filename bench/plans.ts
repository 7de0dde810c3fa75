/**
 * Figure 7, both Alpaca plans against a competent script. The script is what a
 * user writes from the official SDK's README: `collectStockBarsBySymbol` with
 * a whole basket in one multi-symbol request (the SDK follows the page tokens
 * itself) at Alpaca's largest page (limit 10,000; the API's default is 1,000),
 * behind the SDK's own rate limiter, then one COPY of everything it collected. Ours is the real stack (orchestrator, workers in isolates,
 * simulator) with the product's defaults. Both backfill the seed month
 * (61 symbols, 1Min, March 2024: 852,307 bars) through the simulator's rate
 * limit, 200 and 10,000 requests a minute, with its bucket (and ours) emptied
 * first, so both are measured in the steady state. At 10,000 a minute the same
 * run also measures COPY's own rate on the same database (the end-to-end
 * target's baseline) and samples the database connections the functions hold
 * (the connection budget's check). Rounds alternate ours and the script.
 * Longer than most files: one figure, two plans, ours and the script measured side by side in one run.
 */
import { readFileSync } from "node:fs";
import { cpus } from "node:os";
import { Alpaca, TimeFrame } from "@alpacahq/alpaca-trade-api";
import type { Sql } from "postgres";
import { DEFAULT_SIM_KEY_ID, DEFAULT_SIM_SECRET, startAlpacaSim } from "../scripts/alpaca-sim/index.ts";
import { ALPACA_DATA_HOST } from "../supabase/functions/_shared/alpaca/config.ts";
import type { BarRow } from "../supabase/functions/_shared/alpaca/types.ts";
import { DEFAULT_DB_CONNECTION_BUDGET } from "../supabase/functions/_shared/config.ts";
import { copyRows } from "./ingest.ts";
import { syntheticBars } from "./lib/bars.ts";
import type { FigureContext, FigureResult } from "./lib/context.ts";
import { limitMetric, metric } from "./lib/metrics.ts";
import { nyMidnight, planSeed, SEED_BASKETS } from "./lib/seed.ts";
import { drainByTicking, startBenchStack } from "./lib/stack.ts";
import { elapsedMs, fmt, median, now } from "./lib/stats.ts";
import { emptyProductBucket, emptySimBucket } from "./throughput.ts";

/** The free plan's range: the seed month, API-bound on both sides. */
const MONTH = { start: nyMidnight(2024, 3, 1).toISOString(), end: nyMidnight(2024, 4, 1).toISOString() };
/** The paid plan's: a quarter, so the planner's slices (9) give the isolates parallel work. */
const QUARTER = { start: nyMidnight(2024, 1, 1).toISOString(), end: nyMidnight(2024, 4, 1).toISOString() };
type Range = typeof MONTH;
const PLANS = [
  { name: "free", perMinute: 200, range: MONTH },
  { name: "Algo Trader Plus", perMinute: 10_000, range: QUARTER },
] as const;

/** Busy and total CPU time of the whole machine so far (all cores), in seconds, from /proc/stat. */
function machineCpu(): { busy: number; total: number } {
  const f = readFileSync("/proc/stat", "utf8").split("\n")[0]!.trim().split(/\s+/).slice(1).map(Number);
  const [user, nice, system, idle, iowait, irq, softirq, steal] = f as [number, number, number, number, number, number, number, number];
  const hz = 100;
  return { busy: (user + nice + system + irq + softirq + steal) / hz, total: (user + nice + system + idle + iowait + irq + softirq + steal) / hz };
}

interface OursRound {
  barsPerSecond: number;
  seconds: number;
  requests: number;
  rateLimited: number;
  peakConnections: number;
  copyBarsPerSecond: number;
  /** Whole-machine busy CPU seconds per million bars stored (every process: ours, the simulator, Postgres, others'). */
  cpuSecondsPerMillionBars: number;
}

interface ScriptRound {
  barsPerSecond: number;
  seconds: number;
  requests: number;
  cpuSecondsPerMillionBars: number;
}

/** Highest number of the functions' connections to `db` seen while `work` runs (sampled every 100 ms). */
async function peakConnections<T>(sql: Sql, dbName: string, work: Promise<T>): Promise<{ result: T; peak: number }> {
  let peak = 0;
  let done = false;
  const sampler = (async () => {
    while (!done) {
      const [{ n }] = await sql<{ n: number }[]>`
        select count(*)::int as n from pg_stat_activity where datname = ${dbName} and application_name = 'bars-backfill'`;
      peak = Math.max(peak, n);
      await new Promise((r) => setTimeout(r, 100));
    }
  })();
  try {
    return { result: await work, peak };
  } finally {
    done = true;
    await sampler;
  }
}

async function oursRound(ctx: FigureContext, perMinute: number, range: Range, withCopy: boolean): Promise<OursRound> {
  const db = await ctx.pg.createDatabase("plans");
  try {
    await planSeed(db.sql, range.start, range.end);
    const stack = await startBenchStack(db, {
      sim: { rateLimitPerMin: perMinute },
      env: { ALPACA_REQUESTS_PER_MINUTE: String(perMinute), LOG_LEVEL: "warn" },
    });
    try {
      await emptySimBucket(stack.sim, perMinute);
      await emptyProductBucket(db.sql, perMinute, perMinute);
      stack.sim.resetStats();
      const t = now();
      const cpu0 = machineCpu();
      const { result: drained, peak } = await peakConnections(db.sql, db.name, drainByTicking(stack, { timeoutMs: 600_000 }));
      const seconds = elapsedMs(t) / 1000;
      const cpuBusy = machineCpu().busy - cpu0.busy;
      if (drained.timedOut) throw new Error("the seed month did not drain in 10 minutes");
      const [{ bars, ok, runs }] = await db.sql<{ bars: string; ok: number; runs: number }[]>`
        select (select count(*) from public.bars)::text as bars,
               (select count(*)::int from public.job_runs where status = 'success') as ok,
               (select count(*)::int from public.job_runs) as runs`;
      if (ok !== runs) throw new Error(`only ${ok} of ${runs} runs succeeded`);
      const stats = stack.sim.stats();
      // COPY's own rate on this database, right after: the practical limit of the same table and server.
      let copyBarsPerSecond = Number.NaN;
      if (withCopy) {
        const rows = syntheticBars(200_000, { prefix: "C", symbols: 60 });
        const plain = db.connect(1);
        const tc = now();
        await copyRows(plain, rows);
        copyBarsPerSecond = rows.length / (elapsedMs(tc) / 1000);
        await plain.end({ timeout: 5 });
      }
      return {
        barsPerSecond: Number(bars) / seconds, seconds, requests: stats.requests, rateLimited: stats.rateLimited,
        peakConnections: peak, copyBarsPerSecond, cpuSecondsPerMillionBars: cpuBusy / (Number(bars) / 1e6),
      };
    } finally {
      await stack.stop();
    }
  } finally {
    await db.drop();
  }
}

/** The competent script: the SDK's multi-symbol collect per basket (its own pagination and limiter), then COPY. */
async function scriptRound(ctx: FigureContext, perMinute: number, range: Range): Promise<ScriptRound> {
  const db = await ctx.pg.createDatabase("script");
  const sim = await startAlpacaSim({ rateLimitPerMin: perMinute });
  const sql = db.connect(1);
  try {
    await emptySimBucket(sim, perMinute);
    sim.resetStats();
    const alpaca = new Alpaca({
      keyId: DEFAULT_SIM_KEY_ID,
      secret: DEFAULT_SIM_SECRET,
      rateLimit: { maxRequests: perMinute, intervalMs: 60_000 },
      // The SDK's Alpaca facade has no base-URL option for market data: rewrite the host.
      middleware: [{ pre: ({ url, init }) => Promise.resolve({ url: url.replace(ALPACA_DATA_HOST, sim.url), init }) }],
    });
    const t = now();
    const cpu0 = machineCpu();
    let stored = 0;
    for (const basket of SEED_BASKETS) {
      const bySymbol = await alpaca.marketData.collectStockBarsBySymbol({
        symbols: basket.symbols.join(","), timeframe: TimeFrame.Minute, start: new Date(range.start),
        end: new Date(Date.parse(range.end) - 1000), feed: "sip", adjustment: "raw", limit: 10_000,
      });
      const rows: BarRow[] = [];
      for (const [symbol, bars] of Object.entries(bySymbol)) {
        for (const b of bars ?? []) {
          rows.push({ symbol, timeframe: "1Min", ts: String(b.t), open: Number(b.o), high: Number(b.h), low: Number(b.l),
            close: Number(b.c), volume: Number(b.v), trade_count: Number(b.n), vwap: Number(b.vw) });
        }
      }
      await copyRows(sql, rows);
      stored += rows.length;
    }
    const seconds = elapsedMs(t) / 1000;
    const cpuBusy = machineCpu().busy - cpu0.busy;
    return { barsPerSecond: stored / seconds, seconds, requests: sim.stats().requests, cpuSecondsPerMillionBars: cpuBusy / (stored / 1e6) };
  } finally {
    await sim.close();
    await db.drop();
  }
}

export async function plans(ctx: FigureContext): Promise<FigureResult> {
  const rounds = ctx.quick ? 1 : 2;
  const results: Record<string, { ours: OursRound[]; script: ScriptRound[] }> = {};
  for (const plan of PLANS) {
    const r = (results[plan.name] = { ours: [], script: [] } as (typeof results)[string]);
    const paid = plan.perMinute > 200;
    for (let i = 0; i < rounds; i++) {
      const steps = [
        async () => { r.ours.push(await oursRound(ctx, plan.perMinute, plan.range, paid)); },
        async () => { r.script.push(await scriptRound(ctx, plan.perMinute, plan.range)); },
      ];
      for (let k = 0; k < steps.length; k++) await steps[(k + i) % steps.length]!();
      const o = r.ours.at(-1)!, s = r.script.at(-1)!;
      ctx.log(`  ${plan.name} (${plan.perMinute}/min) round ${i + 1}/${rounds}: ours ${fmt(o.barsPerSecond)} bars/s ` +
        `(${fmt(o.seconds)} s, ${o.requests} requests, ${o.rateLimited} × 429, peak ${o.peakConnections} connections` +
        `${paid ? `, COPY ${fmt(o.copyBarsPerSecond)} bars/s` : ""}, ${fmt(o.cpuSecondsPerMillionBars)} machine CPU-s per M bars); ` +
        `script ${fmt(s.barsPerSecond)} bars/s (${fmt(s.seconds)} s, ${s.requests} requests, ${fmt(s.cpuSecondsPerMillionBars)} CPU-s per M bars)`);
    }
  }
  const free = results[PLANS[0].name]!, paid = results[PLANS[1].name]!;
  const sizes = `seed baskets (61 symbols, 1Min): March 2024 (852,307 bars) at 200/min, January-March 2024 at 10,000/min; ` +
    `${rounds} round(s) per plan, both buckets emptied first; ours with the product's defaults (runs in flight, connection budget ` +
    `${DEFAULT_DB_CONNECTION_BUDGET})`;
  const cores = cpus().length;
  const oursCpu = median(paid.ours.map((o) => o.cpuSecondsPerMillionBars));
  const scriptCpu = median(paid.script.map((s) => s.cpuSecondsPerMillionBars));
  const bound = `the bound on this machine: ${cores} cores / ${fmt(oursCpu)} machine CPU-s per million bars (ours: isolates, ` +
    `simulator, Postgres) = ${fmt((cores / oursCpu) * 1e6)} bars/s if every core did nothing else; the script spends ` +
    `${fmt(scriptCpu)} CPU-s per million bars`;
  return {
    metrics: [
      metric({
        figure: 7, name: "free plan (200 req/min): ours vs competent script", unit: "bars/s", values: free.ours.map((o) => o.barsPerSecond),
        baselineName: "SDK multi-symbol collect + COPY", baselineValues: free.script.map((s) => s.barsPerSecond),
        target: { on: "ratio", op: ">=", x: 0.95, text: "≥ 0.95×" }, note: sizes,
      }),
      metric({
        figure: 7, name: "10,000 req/min: ours vs competent script", unit: "bars/s", values: paid.ours.map((o) => o.barsPerSecond),
        baselineName: "SDK multi-symbol collect + COPY", baselineValues: paid.script.map((s) => s.barsPerSecond),
        target: { on: "ratio", op: ">=", x: 3, text: "≥ 3×" }, note: bound,
      }),
      metric({
        figure: 7, name: "10,000 req/min end to end vs COPY, same database", unit: "bars/s", values: paid.ours.map((o) => o.barsPerSecond),
        baselineName: "COPY (200,000 bars, streamed)", baselineValues: paid.ours.map((o) => o.copyBarsPerSecond),
        target: { on: "ratio", op: ">=", x: 0.6, text: "≥ 0.6× COPY" },
        note: "ours: bars stored / seconds from the first tick until every run succeeded (isolate boots, ramp-up and the last slices' tail included)",
      }),
      limitMetric({
        figure: 7, name: "peak database connections at 10,000 req/min", unit: "connections",
        values: paid.ours.map((o) => o.peakConnections), limitName: "DB_CONNECTION_BUDGET", limit: DEFAULT_DB_CONNECTION_BUDGET,
        target: { on: "value", op: "<=", x: DEFAULT_DB_CONNECTION_BUDGET, text: `≤ ${DEFAULT_DB_CONNECTION_BUDGET}` },
        note: "pg_stat_activity sampled every 100 ms: every connection of the functions (orchestrator and worker isolates)",
      }),
    ],
    details: { results, median_ours_paid_bars_per_second: median(paid.ours.map((o) => o.barsPerSecond)) },
  };
}
