/**
 * The scale figure's data, generated in SQL (`insert ... select
 * generate_series`), in key order and in chunks, so millions of rows take
 * seconds rather than client round trips.
 */
import type { Sql } from "postgres";

const DEFINITIONS = 100;
const BAR_CHUNK = 1_000_000;

export async function addDefinitions(sql: Sql): Promise<void> {
  await sql`
    insert into public.job_definitions (kind, symbol, symbols_array, timeframe, range_start, range_end)
    select 'batch', 'SCALE_' || d, '["AAPL"]'::jsonb, '1Min', '2000-01-01', '2100-01-01'
      from generate_series(1, ${DEFINITIONS}::int) d`;
}

/** Finished runs: 98% success, 2% failed with an error, spread over the definitions, one day each. */
export async function addFinishedRuns(sql: Sql, n: number): Promise<void> {
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
export async function addQueuedRuns(sql: Sql, n: number): Promise<void> {
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

/**
 * Up to `target` bars over `symbols` symbols (`perSymbol` each, as upserts
 * later offset past them), in chunks; stops early when the whole would not
 * fit `budgetSeconds`, and then says so in `scaledDown`.
 */
export async function addBarsWithinBudget(
  sql: Sql,
  target: number,
  symbols: number,
  budgetSeconds: number,
): Promise<{ stored: number; perSymbol: number; scaledDown?: string }> {
  const t = performance.now();
  const perSymbol = Math.ceil(target / symbols);
  let stored = 0;
  while (stored < target) {
    const to = Math.min(target, stored + BAR_CHUNK);
    await addBarsChunk(sql, stored, to - 1, perSymbol);
    stored = to;
    const elapsed = (performance.now() - t) / 1000;
    const projected = (elapsed / stored) * target;
    if (stored < target && projected > budgetSeconds) {
      const scaledDown = `SCALED DOWN: ${stored.toLocaleString("en-US")} of ${target.toLocaleString("en-US")} bars generated in ` +
        `${elapsed.toFixed(0)} s; all ${target.toLocaleString("en-US")} were projected to take ${projected.toFixed(0)} s ` +
        `(budget ${budgetSeconds} s)`;
      return { stored, perSymbol, scaledDown };
    }
  }
  return { stored, perSymbol };
}
