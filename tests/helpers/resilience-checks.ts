/**
 * Checks shared by the resilience suite: a digest of every table (to prove
 * "nothing was written"), stored bars vs the simulator's ground truth per
 * successful run, bounded waits, and the one-line figures each test prints.
 */
import type { Sql } from "postgres";
import { expectedBars } from "../../scripts/alpaca-sim/ground-truth.ts";

/** md5 of every row of every table in schema public, per table (tables listed from the catalog). */
export async function tableDigest(sql: Sql): Promise<Record<string, string>> {
  const tables = await sql<{ name: string }[]>`
    select c.relname as name from pg_class c
     where c.relnamespace = 'public'::regnamespace and c.relkind in ('r', 'p') order by 1`;
  const out: Record<string, string> = {};
  for (const { name } of tables) {
    const [row] = await sql.unsafe<{ n: number; digest: string | null }[]>(
      `select count(*)::int as n, md5(coalesce(string_agg(t::text, '|' order by t::text), '')) as digest from public."${name}" t`,
    );
    out[name] = `${row!.n}:${row!.digest}`;
  }
  return out;
}

export interface RunTruth {
  /** Successful runs checked. */
  runs: number;
  expected: number;
  missing: number;
  different: number;
  /** Runs (ids) whose bars are not exactly the ground truth of their slice. */
  wrongRuns: string[];
}

/**
 * For every successful run: the bars stored for its definition's symbols and
 * timeframe inside [slice_start, slice_end) equal the simulator's answer for
 * that slice, bar for bar.
 */
export async function compareSuccessfulRunsWithGroundTruth(sql: Sql): Promise<RunTruth> {
  const runs = await sql<{ id: string; symbols: string[]; timeframe: string; feed: string; adjustment: string; slice_start: Date; slice_end: Date }[]>`
    select jr.id::text as id,
           public.job_definition_symbols(jd) as symbols,
           jd.timeframe, jd.feed, jd.adjustment, jr.slice_start, jr.slice_end
      from public.job_runs jr join public.job_definitions jd on jd.id = jr.job_def_id
     where jr.status = 'success' order by jr.id`;
  const out: RunTruth = { runs: runs.length, expected: 0, missing: 0, different: 0, wrongRuns: [] };
  for (const r of runs) {
    const rows = await sql<{ symbol: string; ts: Date; open: number; high: number; low: number; close: number; volume: string; trade_count: string; vwap: number }[]>`
      select * from public.bars where symbol in ${sql(r.symbols)} and timeframe = ${r.timeframe}
         and ts >= ${r.slice_start} and ts < ${r.slice_end}`;
    const have = new Map(rows.map((b) => [`${b.symbol}|${b.ts.toISOString().replace(".000Z", "Z")}`, b]));
    let wrong = false;
    for (const bar of expectedBars({
      symbols: r.symbols, timeframe: r.timeframe, feed: r.feed, adjustment: r.adjustment,
      start: r.slice_start.toISOString(), end: new Date(r.slice_end.getTime() - 1).toISOString(),
    })) {
      out.expected++;
      const key = `${bar.symbol}|${bar.t}`;
      const b = have.get(key);
      if (!b) {
        out.missing++;
        wrong = true;
        continue;
      }
      have.delete(key);
      if (b.open !== bar.o || b.high !== bar.h || b.low !== bar.l || b.close !== bar.c || Number(b.volume) !== bar.v ||
          Number(b.trade_count) !== bar.n || b.vwap !== bar.vw) {
        out.different++;
        wrong = true;
      }
    }
    if (have.size > 0) wrong = true; // stored bars the slice does not have: counted as extra by compareWithGroundTruth
    if (wrong) out.wrongRuns.push(r.id);
  }
  return out;
}

/** Polls `probe` until it returns a truthy value; throws after `timeoutMs`. */
export async function waitFor<T>(
  what: string,
  probe: () => T | undefined | null | false | Promise<T | undefined | null | false>,
  timeoutMs = 15_000,
  everyMs = 100,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** Lines of `logs` that contain any of `secrets` (the secret itself is never printed). */
export function linesLeaking(logs: readonly string[], secrets: readonly string[]): string[] {
  return logs.filter((line) => secrets.some((s) => line.includes(s))).map((line) => {
    let masked = line;
    for (const s of secrets) masked = masked.split(s).join("<SECRET>");
    return masked;
  });
}

/** One line per test with its figures, for the lead to quote. */
export function printFigures(test: string, figures: Record<string, unknown>): void {
  const parts = Object.entries(figures).map(([k, v]) => `${k}=${typeof v === "object" ? JSON.stringify(v) : String(v)}`);
  console.log(`[resilience] ${test}: ${parts.join(", ")}`);
}

/** A deterministic pseudo-random sequence in [0, 1), for "random" moments that can be replayed. */
export { seededSequence as seededRandom } from "../../scripts/alpaca-sim/random.ts";
