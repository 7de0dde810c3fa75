/**
 * Figure 6, scale: claim latency with 1M finished and 10k queued runs in
 * job_runs (target < 5 ms), and the upsert rate (saveBarsPage) with 10M bars
 * already stored, each against the same operation on a database that holds
 * only the 10k queued runs and no bars. Rows are generated in SQL
 * (`insert ... select generate_series`), in key order, in chunks; when the
 * bars would not fit the time budget, generation stops early and the figure
 * says how many bars it measured with. Both databases are dropped afterwards.
 * Measurements alternate between the two databases in small blocks.
 */
import postgres, { type Sql } from "postgres";
import { claimJobRuns, completeJobRun, connect, saveBarsPage } from "../supabase/functions/_shared/db.ts";
import { claimOneRun, syntheticBars } from "./lib/bars.ts";
import type { FigureContext, FigureResult } from "./lib/context.ts";
import type { BenchDatabase } from "./lib/db.ts";
import { metric } from "./lib/metrics.ts";
import { fmt, median, percentile } from "./lib/stats.ts";

const DEFINITIONS = 100;
const BAR_SYMBOLS = 50;
const BAR_CHUNK = 1_000_000;

interface Sizes {
  finishedRuns: number;
  queuedRuns: number;
  bars: number;
  /** Seconds allowed for generating bars before scaling down. */
  barsBudgetSeconds: number;
  claimsPerBlock: number;
  claimBlocks: number;
  pagesPerBlock: number;
  upsertBlocks: number;
}

async function addDefinitions(sql: Sql): Promise<void> {
  await sql`
    insert into public.job_definitions (kind, symbol, symbols_array, timeframe, range_start, range_end)
    select 'batch', 'SCALE_' || d, '["AAPL"]'::jsonb, '1Min', '2000-01-01', '2100-01-01'
      from generate_series(1, ${DEFINITIONS}::int) d`;
}

/** Finished runs: 98% success, 2% failed with an error, spread over the definitions, one day each. */
async function addFinishedRuns(sql: Sql, n: number): Promise<void> {
  const chunk = 250_000;
  for (let from = 0; from < n; from += chunk) {
    const to = Math.min(n, from + chunk) - 1;
    await sql`
      insert into public.job_runs (job_def_id, status, slice_start, slice_end, attempt, started_at, finished_at,
                                   pages_fetched, rows_written, handled_by, error_message, created_at, updated_at)
      select d.id,
             case when g % 50 = 0 then 'failed' else 'success' end,
             timestamptz '2001-01-01' + (g / ${DEFINITIONS}::int) * interval '1 day',
             timestamptz '2001-01-01' + (g / ${DEFINITIONS}::int + 1) * interval '1 day',
             case when g % 50 = 0 then 5 else 1 end,
             now() - interval '30 days' + g * interval '1 second',
             now() - interval '30 days' + g * interval '1 second' + interval '20 seconds',
             6, 55000, 'fetch-bars-batch',
             case when g % 50 = 0 then 'Alpaca server error (503): service unavailable' end,
             now() - interval '30 days', now() - interval '30 days'
        from generate_series(${from}::int, ${to}::int) g
        join public.job_definitions d on d.symbol = 'SCALE_' || (g % ${DEFINITIONS}::int + 1)`;
  }
}

/** Queued runs, due now, after every finished slice of their definition. */
async function addQueuedRuns(sql: Sql, n: number): Promise<void> {
  await sql`
    insert into public.job_runs (job_def_id, slice_start, slice_end, run_after)
    select d.id,
           timestamptz '2050-01-01' + (g / ${DEFINITIONS}::int) * interval '1 day',
           timestamptz '2050-01-01' + (g / ${DEFINITIONS}::int + 1) * interval '1 day',
           now() - interval '1 hour' + g * interval '1 millisecond'
      from generate_series(0, ${n - 1}::int) g
      join public.job_definitions d on d.symbol = 'SCALE_' || (g % ${DEFINITIONS}::int + 1)`;
}

/** Synthetic symbols SAA..SBX (as syntheticBars names them), one bar a minute from 2020-01-02, in primary-key order. */
async function addBarsChunk(sql: Sql, from: number, to: number, perSymbol: number): Promise<void> {
  await sql`
    insert into public.bars (symbol, timeframe, ts, open, high, low, close, volume, trade_count, vwap)
    select 'S' || chr(65 + s % 26) || chr(65 + s / 26), '1Min',
           timestamptz '2020-01-02 14:30:00+00' + m * interval '1 minute',
           100 + (m % 1000) / 100.0, 100.25 + (m % 1000) / 100.0, 99.75 + (m % 1000) / 100.0, 100.05 + (m % 1000) / 100.0,
           1000 + m % 5000, 10 + m % 90, 100.01 + (m % 1000) / 100.0
      from generate_series(${from}::bigint, ${to}::bigint) g,
           lateral (select (g / ${perSymbol}::bigint)::int as s, (g % ${perSymbol}::bigint)::int as m) k`;
}

async function timeClaims(sql: Sql, n: number, worker: string): Promise<number[]> {
  const ms: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    const rows = await claimJobRuns(sql, worker, 1, 300);
    ms.push(performance.now() - t);
    const r = rows[0];
    if (!r) throw new Error("ran out of queued runs");
    await completeJobRun(sql, { runId: String(r.run_id), worker: r.locked_by, attempt: r.attempt }, "bench");
  }
  return ms;
}

export async function scale(ctx: FigureContext): Promise<FigureResult> {
  const s: Sizes = ctx.quick
    ? { finishedRuns: 100_000, queuedRuns: 10_000, bars: 1_000_000, barsBudgetSeconds: 30, claimsPerBlock: 50, claimBlocks: 4, pagesPerBlock: 2, upsertBlocks: 2 }
    : { finishedRuns: 1_000_000, queuedRuns: 10_000, bars: 10_000_000, barsBudgetSeconds: 240, claimsPerBlock: 100, claimBlocks: 8, pagesPerBlock: 3, upsertBlocks: 6 };
  const notes: string[] = [];
  const big = await ctx.pg.createDatabase("scale_big");
  let small: BenchDatabase | undefined;
  try {
    small = await ctx.pg.createDatabase("scale_small");
    // ---- generate
    let t = performance.now();
    for (const db of [big, small]) await addDefinitions(db.sql);
    await addFinishedRuns(big.sql, s.finishedRuns);
    for (const db of [big, small]) await addQueuedRuns(db.sql, s.queuedRuns);
    const runsSeconds = (performance.now() - t) / 1000;
    ctx.log(`  generated ${s.finishedRuns.toLocaleString("en-US")} finished + ${s.queuedRuns.toLocaleString("en-US")} queued runs in ${runsSeconds.toFixed(1)} s`);

    t = performance.now();
    const perSymbol = Math.ceil(s.bars / BAR_SYMBOLS);
    let stored = 0;
    while (stored < s.bars) {
      const to = Math.min(s.bars, stored + BAR_CHUNK);
      await addBarsChunk(big.sql, stored, to - 1, perSymbol);
      stored = to;
      const elapsed = (performance.now() - t) / 1000;
      const projected = (elapsed / stored) * s.bars;
      if (stored < s.bars && projected > s.barsBudgetSeconds) {
        notes.push(`SCALED DOWN: ${stored.toLocaleString("en-US")} of ${s.bars.toLocaleString("en-US")} bars generated in ` +
          `${elapsed.toFixed(0)} s; all ${s.bars.toLocaleString("en-US")} were projected to take ${projected.toFixed(0)} s ` +
          `(budget ${s.barsBudgetSeconds} s)`);
        break;
      }
    }
    const barsSeconds = (performance.now() - t) / 1000;
    ctx.log(`  generated ${stored.toLocaleString("en-US")} bars in ${barsSeconds.toFixed(1)} s (${fmt(stored / barsSeconds)}/s)`);
    t = performance.now();
    for (const db of [big, small]) await db.sql`vacuum analyze`;
    const [size] = await big.sql<{ runs: string; bars: string }[]>`
      select pg_size_pretty(pg_total_relation_size('public.job_runs')) as runs, pg_size_pretty(pg_total_relation_size('public.bars')) as bars`;
    ctx.log(`  vacuum analyze ${((performance.now() - t) / 1000).toFixed(1)} s; job_runs ${size!.runs}, bars ${size!.bars}`);

    // ---- claim latency, alternating blocks
    const bigSql = connect(big.url, 1);
    const smallSql = connect(small.url, 1);
    // Diagnostic: the same claims without waiting for the commit's WAL flush (how much of the latency is the disk).
    const asyncCommitSql = postgres(big.url, { prepare: false, max: 1, onnotice: () => {}, connection: { synchronous_commit: "off" } });
    const asyncMs: number[] = [];
    const bigMs: number[][] = [];
    const smallMs: number[][] = [];
    const bigRate: number[] = [];
    const smallRate: number[] = [];
    try {
      await timeClaims(bigSql, 10, "warm");
      await timeClaims(smallSql, 10, "warm");
      await timeClaims(asyncCommitSql, 10, "warm");
      for (let b = 0; b < s.claimBlocks; b++) {
        if (b % 4 === 1) asyncMs.push(...await timeClaims(asyncCommitSql, s.claimsPerBlock, `async-${b}`));
        if (b % 2 === 0) {
          bigMs.push(await timeClaims(bigSql, s.claimsPerBlock, `big-${b}`));
          smallMs.push(await timeClaims(smallSql, s.claimsPerBlock, `small-${b}`));
        } else {
          smallMs.push(await timeClaims(smallSql, s.claimsPerBlock, `small-${b}`));
          bigMs.push(await timeClaims(bigSql, s.claimsPerBlock, `big-${b}`));
        }
      }
      // ---- upsert rate: new bars (a later minute range of the same symbols), alternating blocks
      const bigClaim = await claimOneRun(big.sql, "SCALE_WRITER");
      const smallClaim = await claimOneRun(small.sql, "SCALE_WRITER");
      const upsert = async (sql: Sql, claim: Awaited<ReturnType<typeof claimOneRun>>, block: number) => {
        const started = performance.now();
        for (let p = 0; p < s.pagesPerBlock; p++) {
          const page = syntheticBars(10_000, { symbols: BAR_SYMBOLS, offset: perSymbol + 1000 + (block * s.pagesPerBlock + p) * 200 });
          await saveBarsPage(sql, claim, "1Min", page, `p${p}`, 300);
        }
        return (s.pagesPerBlock * 10_000) / ((performance.now() - started) / 1000);
      };
      for (let b = 0; b < s.upsertBlocks; b++) {
        if (b % 2 === 0) {
          bigRate.push(await upsert(bigSql, bigClaim, b));
          smallRate.push(await upsert(smallSql, smallClaim, b));
        } else {
          smallRate.push(await upsert(smallSql, smallClaim, b));
          bigRate.push(await upsert(bigSql, bigClaim, b));
        }
      }
    } finally {
      await bigSql.end({ timeout: 5 });
      await smallSql.end({ timeout: 5 });
      await asyncCommitSql.end({ timeout: 5 });
    }
    const all = (xs: number[][]) => xs.flat();
    ctx.log(`  claim p50 ${fmt(median(all(bigMs)))} ms (p95 ${fmt(percentile(all(bigMs), 95))}) with ${s.finishedRuns.toLocaleString("en-US")} ` +
      `finished runs vs ${fmt(median(all(smallMs)))} ms (p95 ${fmt(percentile(all(smallMs), 95))}) without; upsert ` +
      `${fmt(median(bigRate))} vs ${fmt(median(smallRate))} bars/s`);
    const claimNote = `${s.claimBlocks} alternating blocks of ${s.claimsPerBlock} claims (batch 1, client round trip on the product's ` +
      `connection); p95 ${fmt(percentile(all(bigMs), 95))} ms vs ${fmt(percentile(all(smallMs), 95))} ms; with ` +
      `synchronous_commit=off (diagnostic) p50 ${fmt(median(asyncMs))} ms, so the rest is the commit's WAL flush; job_runs ${size!.runs}; ` +
      `generating the runs took ${runsSeconds.toFixed(0)} s`;
    const barsNote = `${stored.toLocaleString("en-US")} bars stored (bars ${size!.bars}, generated in ${barsSeconds.toFixed(0)} s); ` +
      `${s.upsertBlocks} alternating blocks of ${s.pagesPerBlock} pages of 10,000 new bars via saveBarsPage` +
      (notes.length ? `; ${notes.join("; ")}` : "");
    return {
      metrics: [
        metric({
          figure: 6, name: `scale: claim latency p50, ${(s.finishedRuns / 1e6).toLocaleString("en-US")}M finished + ${s.queuedRuns / 1000}k queued runs`,
          unit: "ms", values: bigMs.map((b) => median(b)), baselineName: `${s.queuedRuns / 1000}k queued runs only`,
          baselineValues: smallMs.map((b) => median(b)), target: { on: "value", op: "<", x: 5, text: "< 5 ms" }, note: claimNote,
        }),
        metric({
          figure: 6, name: `scale: upsert rate with ${(stored / 1e6).toLocaleString("en-US")}M bars stored`, unit: "bars/s",
          values: bigRate, baselineName: "empty bars table", baselineValues: smallRate, note: barsNote,
        }),
      ],
      details: {
        sizes: s, bars_stored: stored, scaled_down: notes.length > 0, notes, runs_generation_seconds: runsSeconds,
        bars_generation_seconds: barsSeconds, table_sizes: size,
      },
    };
  } finally {
    await big.drop();
    await small?.drop();
  }
}
