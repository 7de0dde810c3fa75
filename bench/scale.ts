/**
 * Figure 6, scale: claim latency with 1M finished and 10k queued runs in
 * job_runs (target < 5 ms), and the upsert rate (saveBarsPage) with 10M bars
 * already stored, each against the same operation on a database that holds
 * only the 10k queued runs and no bars. Rows are generated in SQL
 * (scale/generate.ts); when the bars would not fit the time budget,
 * generation stops early and the figure says how many bars it measured with.
 * Both databases are dropped afterwards.
 * Measurements alternate between the two databases in small blocks.
 */
import postgres, { type Sql } from "postgres";
import { claimJobRuns, completeJobRun, connect, saveBarsPage } from "../supabase/functions/_shared/db.ts";
import { claimOneRun, syntheticBars } from "./lib/bars.ts";
import type { FigureContext, FigureResult } from "./lib/context.ts";
import type { BenchDatabase } from "./lib/db.ts";
import { metric } from "./lib/metrics.ts";
import { fmt, median, percentile } from "./lib/stats.ts";
import { addBarsWithinBudget, addDefinitions, addFinishedRuns, addQueuedRuns } from "./scale/generate.ts";

const BAR_SYMBOLS = 50;

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
    const { stored, perSymbol, scaledDown } = await addBarsWithinBudget(big.sql, s.bars, BAR_SYMBOLS, s.barsBudgetSeconds);
    if (scaledDown) notes.push(scaledDown);
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
