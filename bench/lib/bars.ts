/** Synthetic bar rows (the shape the Alpaca client hands the workers) and a claimed run to write them under. */
import type { Sql } from "postgres";
import type { BarRow } from "../../supabase/functions/_shared/alpaca/types.ts";
import type { Claim } from "../../supabase/functions/_shared/db.ts";

const BASE_MS = Date.UTC(2020, 0, 2, 14, 30);

/**
 * `n` distinct bars: `symbols` tickers, one bar a minute each, starting at
 * minute `offset` (so later calls can append rows that do not exist yet).
 */
export function syntheticBars(n: number, opts: { symbols?: number; offset?: number; timeframe?: string; prefix?: string } = {}): BarRow[] {
  const symbols = opts.symbols ?? 50;
  const offset = opts.offset ?? 0;
  const prefix = opts.prefix ?? "S";
  const timeframe = opts.timeframe ?? "1Min";
  const rows: BarRow[] = new Array(n);
  for (let i = 0; i < n; i++) {
    const s = i % symbols;
    const minute = offset + Math.floor(i / symbols);
    const p = 100 + ((minute * 7 + s * 13) % 1000) / 100;
    rows[i] = {
      symbol: `${prefix}${String.fromCharCode(65 + (s % 26))}${String.fromCharCode(65 + Math.floor(s / 26) % 26)}`,
      timeframe,
      ts: new Date(BASE_MS + minute * 60_000).toISOString().replace(".000Z", "Z"),
      open: p, high: p + 0.25, low: p - 0.25, close: p + 0.05,
      volume: 1000 + ((minute + s) % 5000), trade_count: 10 + (minute % 90), vwap: p + 0.01,
    };
  }
  return rows;
}

/** One definition and one run, claimed with a long lease, so save_bars_page accepts pages for it. */
export async function claimOneRun(sql: Sql, name = "BENCH"): Promise<Claim> {
  await sql`select public.plan_backfill('batch', ${name}, '["AAPL"]'::jsonb, '1Min',
              '2020-01-01T00:00:00Z', '2020-01-02T00:00:00Z', p_target_bars => 1000000)`;
  const [row] = await sql<{ run_id: string; attempt: number; locked_by: string }[]>`
    select run_id::text, attempt, locked_by from public.claim_job_runs('bench-writer', 1, interval '1 day')`;
  if (!row) throw new Error("no run to claim");
  return { runId: row.run_id, worker: row.locked_by, attempt: row.attempt };
}
