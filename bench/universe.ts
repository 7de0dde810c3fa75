/**
 * Figure 8, a big universe: 8,000 symbols in 160 baskets of 50, 1Min, one
 * year (2023), planned with the planner's defaults as an operator would. It
 * measures the time to plan, the runs planned, claim latency with that queue
 * (claim one run, complete it, repeat), the job_progress view and the
 * operator's `jobs status` (a new CLI process each time, Node start-up
 * included), each against the same operation on a database holding the seed's
 * two baskets over the same year, measured in alternating blocks.
 */
import { execFile } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";
import type { Sql } from "postgres";
import { REPO_ROOT } from "../scripts/lib/local-host.ts";
import { claimJobRuns, completeJobRun } from "../supabase/functions/_shared/db.ts";
import type { FigureContext, FigureResult } from "./lib/context.ts";
import type { BenchDatabase } from "./lib/db.ts";
import { metric } from "./lib/metrics.ts";
import { planSeed } from "./lib/seed.ts";
import { fmt, median, percentile } from "./lib/stats.ts";

const run = promisify(execFile);
const TSX = join(REPO_ROOT, "node_modules/.bin/tsx");
const YEAR = { start: "2023-01-01T05:00:00Z", end: "2024-01-01T05:00:00Z" };
const BASKETS = 160;
const BASKET_SIZE = 50;

/** 8,000 distinct tickers of four letters (is_ticker: one to six capitals). */
function universe(): string[][] {
  const letters = (i: number) =>
    [17576, 676, 26, 1].map((d) => String.fromCharCode(65 + Math.floor(i / d) % 26)).join("");
  return Array.from({ length: BASKETS }, (_, b) => Array.from({ length: BASKET_SIZE }, (_, k) => letters(b * BASKET_SIZE + k + 1000)));
}

async function planUniverse(sql: Sql): Promise<{ ms: number; runs: number }> {
  const t = performance.now();
  const baskets = universe();
  for (let b = 0; b < baskets.length; b++) {
    await sql`select public.plan_backfill('batch', ${`U_${b + 1}`}, ${baskets[b]! as never}::jsonb, '1Min', ${YEAR.start}, ${YEAR.end})`;
  }
  const ms = performance.now() - t;
  const [{ n }] = await sql<{ n: number }[]>`select count(*)::int as n from public.job_runs`;
  return { ms, runs: n };
}

async function timeClaims(sql: Sql, n: number): Promise<number[]> {
  const ms: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    const [row] = await claimJobRuns(sql, "bench-universe", 1, 300);
    ms.push(performance.now() - t);
    if (row) await completeJobRun(sql, { runId: String(row.run_id), worker: row.locked_by, attempt: row.attempt }, "fetch-bars-batch");
  }
  return ms;
}

async function timeProgress(sql: Sql, n: number): Promise<number[]> {
  const ms: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    await sql`select * from public.job_progress`;
    ms.push(performance.now() - t);
  }
  return ms;
}

async function timeStatus(db: BenchDatabase): Promise<{ ms: number; lines: number }> {
  const t = performance.now();
  const { stdout } = await run(TSX, ["scripts/jobs.ts", "status", "--db-url", db.url], { cwd: REPO_ROOT, maxBuffer: 16 * 2 ** 20 });
  return { ms: performance.now() - t, lines: stdout.trimEnd().split("\n").length };
}

export async function universeFigure(ctx: FigureContext): Promise<FigureResult> {
  const blocks = ctx.quick ? 2 : 4;
  const big = await ctx.pg.createDatabase("universe");
  const small = await ctx.pg.createDatabase("universe_seed");
  try {
    const planned = await planUniverse(big.sql);
    const tSeed = performance.now();
    const seedRuns = await planSeed(small.sql, YEAR.start, YEAR.end);
    const seedPlanMs = performance.now() - tSeed;
    ctx.log(`  planned ${BASKETS} baskets × ${BASKET_SIZE} symbols, 1Min, 2023: ${planned.runs} runs in ${fmt(planned.ms)} ms ` +
      `(seed baskets: ${seedRuns} runs in ${fmt(seedPlanMs)} ms)`);
    const claims = { big: [] as number[], small: [] as number[] };
    const progress = { big: [] as number[], small: [] as number[] };
    const status = { big: [] as number[], small: [] as number[] };
    let lines = 0;
    for (let b = 0; b < blocks; b++) {
      claims.big.push(...await timeClaims(big.sql, 25));
      claims.small.push(...await timeClaims(small.sql, 25));
      progress.big.push(...await timeProgress(big.sql, 3));
      progress.small.push(...await timeProgress(small.sql, 3));
      const s = await timeStatus(big);
      status.big.push(s.ms);
      lines = s.lines;
      status.small.push((await timeStatus(small)).ms);
    }
    ctx.log(`  claim p50 ${fmt(median(claims.big))} ms (p95 ${fmt(percentile(claims.big, 95))}); job_progress ${fmt(median(progress.big))} ms; ` +
      `jobs status ${fmt(median(status.big))} ms (${lines} lines printed)`);
    const note = `${BASKETS} baskets × ${BASKET_SIZE} symbols (8,000), 1Min, 2023, planner defaults: ${planned.runs} runs planned in ` +
      `${fmt(planned.ms / 1000)} s (${fmt(planned.ms / BASKETS)} ms a basket); baseline: the seed's 2 baskets over the same year ` +
      `(${seedRuns} runs); ${blocks} alternating blocks`;
    return {
      metrics: [
        metric({
          figure: 8, name: "universe: claim latency (1 run) with that queue", unit: "ms", values: [median(claims.big)],
          baselineName: "seed queue", baselineValues: [median(claims.small)],
          target: { on: "value", op: "<=", x: 50, text: "≤ 50 ms" }, note,
        }),
        metric({
          figure: 8, name: "universe: select * from job_progress", unit: "ms", values: [median(progress.big)],
          baselineName: "seed", baselineValues: [median(progress.small)], target: { on: "value", op: "<=", x: 1000, text: "≤ 1 s" },
        }),
        metric({
          figure: 8, name: "universe: jobs status (a new CLI process)", unit: "ms", values: [median(status.big)],
          baselineName: "seed", baselineValues: [median(status.small)], target: { on: "value", op: "<=", x: 5000, text: "≤ 5 s" },
          note: `${lines} lines printed: the first 50 definitions, a line saying how many more, and the summary of all ${BASKETS}`,
        }),
      ],
      details: { planned, plan_ms_per_basket: planned.ms / BASKETS, seed_runs: seedRuns, seed_plan_ms: seedPlanMs, claims, progress, status, status_lines: lines },
    };
  } finally {
    await big.drop();
    await small.drop();
  }
}
