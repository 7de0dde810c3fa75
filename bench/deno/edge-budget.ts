/// <reference lib="deno.ns" />
/**
 * Figure 5's Deno half (run by bench/edge-budget.ts; Deno-only, so excluded
 * from tsc): per 10,000-bar page, the CPU time and memory a worker function
 * spends on the body it received: the official SDK call and the client's
 * JSON.parse + mapping/validation (createAlpacaBarsClient over an in-memory
 * fetch, so no network time is counted), then saveBarsPage (driver encoding
 * and the round trip to Postgres).
 *
 * Usage: deno run --allow-all --v8-flags=--expose-gc bench/deno/edge-budget.ts <pages-dir> <count>
 * Env: BENCH_DB_URL, BENCH_CLAIM (JSON {runId, worker, attempt}), BENCH_SYMBOLS (comma-separated).
 * Prints one JSON object on stdout.
 */
import process from "node:process";
import { createAlpacaBarsClient } from "../../supabase/functions/_shared/alpaca/index.ts";
import type { BarsQuery } from "../../supabase/functions/_shared/alpaca/types.ts";
import { type Claim, connect, saveBarsPage } from "../../supabase/functions/_shared/db.ts";

interface CpuUsage {
  user: number;
  system: number;
}

const denoCpu = (Deno as unknown as { cpuUsage?: () => CpuUsage }).cpuUsage;

/**
 * On-CPU time of every thread of this process, in ms, from the scheduler's
 * nanosecond counters (/proc/self/task/<tid>/schedstat). Deno 2.1.4, the Edge
 * Runtime's, has no Deno.cpuUsage and its process.cpuUsage() answers zeros.
 */
function schedstatMs(): number | null {
  try {
    let ns = 0;
    for (const task of Deno.readDirSync("/proc/self/task")) {
      ns += Number(Deno.readTextFileSync(`/proc/self/task/${task.name}/schedstat`).split(" ")[0]);
    }
    return ns / 1e6;
  } catch {
    return null;
  }
}

const cpuSource = denoCpu ? "Deno.cpuUsage" : schedstatMs() !== null ? "/proc/self/task/*/schedstat" : "process.cpuUsage";
/** Process CPU time in ms (user + system, all threads of this process). */
const cpuMs = (): number => {
  if (denoCpu) {
    const u = denoCpu();
    return (u.user + u.system) / 1000;
  }
  const sched = schedstatMs();
  if (sched !== null) return sched;
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};
const gc = (globalThis as { gc?: () => void }).gc;
const MB = 2 ** 20;
const heap = (): number => {
  const m = Deno.memoryUsage();
  return m.heapUsed + m.external;
};

/** Peak resident set size of this process so far (Linux VmHWM), in MB; null elsewhere. */
function rssHighWaterMb(): number | null {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(Deno.readTextFileSync("/proc/self/status"));
    return m ? Number(m[1]) / 1024 : null;
  } catch {
    return null;
  }
}

const [dir, countArg] = Deno.args;
const count = Number(countArg);
const dbUrl = Deno.env.get("BENCH_DB_URL");
const claimJson = Deno.env.get("BENCH_CLAIM");
const symbols = (Deno.env.get("BENCH_SYMBOLS") ?? "").split(",").filter(Boolean);
if (!dir || !(count > 0) || !dbUrl || !claimJson || symbols.length === 0) {
  console.error("usage: edge-budget.ts <pages-dir> <count> (with BENCH_DB_URL, BENCH_CLAIM, BENCH_SYMBOLS)");
  Deno.exit(2);
}
const claim = JSON.parse(claimJson) as Claim;

const bodies = Array.from({ length: count }, (_, i) => Deno.readTextFileSync(`${dir}/page-${i}.json`));
let current = "";
const client = createAlpacaBarsClient({
  baseUrl: "http://simulator.invalid",
  keyId: "BENCHKEY",
  secretKey: "benchsecret",
  fetch: () => Promise.resolve(new Response(current, { status: 200, headers: { "content-type": "application/json" } })),
});
const query: BarsQuery = {
  symbols,
  timeframe: "1Min",
  start: "2024-03-01T05:00:00Z",
  end: "2024-04-01T03:59:59Z",
  limit: 10_000,
  endpoint: "multi",
};
const sql = connect(dbUrl, 1);

interface PageResult {
  bars: number;
  cpu_ms: number;
  cpu_parse_validate_ms: number;
  cpu_upsert_ms: number;
  wall_ms: number;
  /** heapUsed + external above the level before the page (an upper bound of the live peak: garbage is not collected in between unless V8 chose to). */
  peak_mb: number;
  /** Left over after a full GC (a leak would show here). */
  retained_mb: number;
}

const results: PageResult[] = [];
try {
  for (let i = 0; i < count; i++) {
    current = bodies[i]!;
    gc?.();
    const h0 = heap();
    const c0 = cpuMs();
    const t0 = performance.now();
    const page = await client.fetchPage(query, i === 0 ? null : `page-${i}`);
    const c1 = cpuMs();
    const h1 = heap();
    await saveBarsPage(sql, claim, "1Min", page.bars, `page-${i + 1}`, 300);
    const c2 = cpuMs();
    const t2 = performance.now();
    const h2 = heap();
    const bars = page.bars.length;
    gc?.();
    results.push({
      bars,
      cpu_ms: c2 - c0,
      cpu_parse_validate_ms: c1 - c0,
      cpu_upsert_ms: c2 - c1,
      wall_ms: t2 - t0,
      peak_mb: (Math.max(h1, h2) - h0) / MB,
      retained_mb: (heap() - h0) / MB,
    });
  }
} finally {
  await sql.end({ timeout: 5 });
}
const body_mb = bodies.map((b) => b.length / MB);
console.log(JSON.stringify({
  deno: Deno.version.deno,
  cpu_source: cpuSource,
  gc_exposed: gc !== undefined,
  body_mb,
  rss_high_water_mb: rssHighWaterMb(),
  pages: results,
}));
