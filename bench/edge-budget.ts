/**
 * Figure 5, Edge budget: CPU milliseconds and peak memory per 10,000-bar page
 * in Deno 2.1.4, the isolates' Deno (the client's parse + validate, then saveBarsPage), against
 * Supabase's per-request limits (2 s CPU, 256 MB). Full pages come from the
 * simulator (US_BATCH_1, 1Min); bench/deno/edge-budget.ts processes them in a
 * fresh Deno process per round, the first page of each round being the
 * warm-up (JIT) and reported apart.
 */
import { execFile } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { DEFAULT_SIM_KEY_ID, DEFAULT_SIM_SECRET, startAlpacaSim } from "../scripts/alpaca-sim/index.ts";
import { REPO_ROOT } from "../scripts/lib/local-host.ts";
import { US_BATCH_1 } from "../scripts/lib/seed-baskets.ts";
import { claimOneRun } from "./lib/bars.ts";
import type { FigureContext, FigureResult } from "./lib/context.ts";
import { limitMetric, metric } from "./lib/metrics.ts";
import { fmt, median } from "./lib/stats.ts";

const run = promisify(execFile);
/** The Edge Runtime's Deno (2.1.4), as the local platform's isolates run it. */
const DENO = join(REPO_ROOT, "node_modules/deno-edge/deno");
const SCRIPT = join(REPO_ROOT, "bench/deno/edge-budget.ts");
const EDGE_CPU_MS = 2000;
const EDGE_MEMORY_MB = 256;

interface DenoPage {
  bars: number;
  cpu_ms: number;
  cpu_parse_validate_ms: number;
  cpu_upsert_ms: number;
  wall_ms: number;
  peak_mb: number;
  retained_mb: number;
}

interface DenoOutput {
  deno: string;
  cpu_source: string;
  gc_exposed: boolean;
  body_mb: number[];
  rss_high_water_mb: number | null;
  pages: DenoPage[];
}

/** Full 10,000-bar pages of the multi-symbol endpoint, as raw response bodies. */
async function fetchFullPages(count: number): Promise<string[]> {
  const sim = await startAlpacaSim({ rateLimitPerMin: 1_000_000 });
  try {
    const pages: string[] = [];
    let token: string | null = null;
    while (pages.length < count) {
      const q = new URLSearchParams({
        symbols: US_BATCH_1.join(","), timeframe: "1Min", start: "2024-03-01T05:00:00Z", end: "2024-04-01T03:59:59Z",
        limit: "10000", feed: "sip", adjustment: "raw",
      });
      if (token) q.set("page_token", token);
      const res = await fetch(`${sim.url}/v2/stocks/bars?${q}`, {
        headers: { "APCA-API-KEY-ID": DEFAULT_SIM_KEY_ID, "APCA-API-SECRET-KEY": DEFAULT_SIM_SECRET },
      });
      const text = await res.text();
      if (res.status !== 200) throw new Error(`simulator answered ${res.status}: ${text.slice(0, 200)}`);
      const body = JSON.parse(text) as { bars: Record<string, unknown[]>; next_page_token: string | null };
      const n = Object.values(body.bars ?? {}).reduce((t, l) => t + l.length, 0);
      if (n === 10_000) pages.push(text);
      token = body.next_page_token;
      if (!token) throw new Error(`only ${pages.length} full pages in the month`);
    }
    return pages;
  } finally {
    await sim.close();
  }
}

export async function edgeBudget(ctx: FigureContext): Promise<FigureResult> {
  const rounds = ctx.quick ? 1 : 3;
  const perRound = ctx.quick ? 4 : 8; // plus one warm-up page each round
  const bodies = await fetchFullPages(perRound + 1);
  const dir = await mkdtemp(join(tmpdir(), "bars-edge-budget-"));
  const db = await ctx.pg.createDatabase("edge");
  const outputs: DenoOutput[] = [];
  try {
    await Promise.all(bodies.map((b, i) => writeFile(join(dir, `page-${i}.json`), b)));
    for (let r = 0; r < rounds; r++) {
      await db.sql`truncate public.bars`;
      const claim = await claimOneRun(db.sql, `EDGE_${r}`);
      const { stdout } = await run(DENO, ["run", "--allow-all", "--v8-flags=--expose-gc", SCRIPT, dir, String(bodies.length)], {
        cwd: REPO_ROOT,
        maxBuffer: 16 * 2 ** 20,
        env: {
          PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "", NO_COLOR: "1",
          BENCH_DB_URL: db.url, BENCH_CLAIM: JSON.stringify(claim), BENCH_SYMBOLS: US_BATCH_1.join(","),
          ...(process.env.DENO_DIR ? { DENO_DIR: process.env.DENO_DIR } : {}),
        },
      });
      const out = JSON.parse(stdout.trim().split("\n").at(-1)!) as DenoOutput;
      outputs.push(out);
      const steady = out.pages.slice(1);
      ctx.log(`  round ${r + 1}/${rounds}: warm-up page ${fmt(out.pages[0]!.cpu_ms)} ms CPU; then median ${fmt(median(steady.map((p) => p.cpu_ms)))} ms CPU ` +
        `(parse+validate ${fmt(median(steady.map((p) => p.cpu_parse_validate_ms)))}, upsert ${fmt(median(steady.map((p) => p.cpu_upsert_ms)))}), ` +
        `peak ${fmt(Math.max(...steady.map((p) => p.peak_mb)))} MB, RSS high-water ${fmt(out.rss_high_water_mb)} MB`);
    }
  } finally {
    await db.drop();
    await rm(dir, { recursive: true, force: true });
  }
  // One value per round: the median page (CPU) and the worst page (memory) of that round.
  const cpuPerRound = outputs.map((o) => median(o.pages.slice(1).map((p) => p.cpu_ms)));
  const memPerRound = outputs.map((o) => Math.max(...o.pages.slice(1).map((p) => p.peak_mb)));
  const steady = outputs.flatMap((o) => o.pages.slice(1));
  const first = outputs.map((o) => o.pages[0]!);
  const o0 = outputs[0]!;
  const note = `${rounds} Deno process(es) × ${perRound} full pages (+1 warm-up), US_BATCH_1 1Min bodies of ` +
    `${fmt(median(o0.body_mb))} MB; CPU from ${o0.cpu_source} (whole process, all threads): parse+validate ` +
    `${fmt(median(steady.map((p) => p.cpu_parse_validate_ms)))} ms + upsert ${fmt(median(steady.map((p) => p.cpu_upsert_ms)))} ms; ` +
    `cold first page ${fmt(median(first.map((p) => p.cpu_ms)))} ms; wall ${fmt(median(steady.map((p) => p.wall_ms)))} ms per page; ` +
    `Deno ${o0.deno}`;
  const memNote = `heapUsed+external above the pre-page level (worst page per round; garbage not collected in between, so an upper bound ` +
    `of the live peak); ${fmt(median(steady.map((p) => p.retained_mb)))} MB retained after a full GC; whole-process RSS high-water ` +
    `${fmt(Math.max(...outputs.map((o) => o.rss_high_water_mb ?? Number.NaN)))} MB (Deno runtime included)`;
  return {
    metrics: [
      limitMetric({
        figure: 5, name: "edge budget: CPU per 10,000-bar page", unit: "ms", values: cpuPerRound,
        limitName: "Supabase Edge CPU limit", limit: EDGE_CPU_MS,
        target: { on: "value", op: "<=", x: 35, text: "≤ 35 ms" }, note,
      }),
      metric({
        figure: 5, name: "edge budget: peak memory per 10,000-bar page", unit: "MB", values: memPerRound,
        baselineName: "Supabase Edge memory limit", baselineValues: memPerRound.map(() => EDGE_MEMORY_MB),
        target: { on: "value", op: "<=", x: 64, text: "≤ 64 MB" }, note: memNote,
      }),
    ],
    details: { rounds: outputs },
  };
}
