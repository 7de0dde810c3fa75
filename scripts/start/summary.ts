/** The end of a run: the status table, the errors if any, and how to look at the data. */
import type { Sql } from "postgres";
import type { Spend } from "../report/data.ts";
import { type DefinitionProgress, formatCount } from "./progress.ts";

export function statusTable(rows: DefinitionProgress[]): string[] {
  const header = ["definition", "kind", "timeframe", "slices done", "failed", "total", "bars"];
  const body = rows.map((r) => [r.name, r.kind, r.timeframe, String(r.done), String(r.failed), String(r.total), formatCount(r.bars)]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const numeric = new Set([3, 4, 5, 6]);
  const fmt = (cells: string[]) =>
    cells.map((c, i) => (numeric.has(i) ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join("  ").trimEnd();
  return [fmt(header), widths.map((w) => "-".repeat(w)).join("  "), ...body.map(fmt)];
}

export async function recentErrors(sql: Sql, ids: number[], limit = 5): Promise<string[]> {
  const rows = await sql<{ symbol: string; status: string; slice_start: Date; error_message: string }[]>`
    select symbol, status, slice_start, error_message from public.job_recent_errors
     where job_def_id = any(${ids}::bigint[]) and status = 'failed' limit ${limit}`;
  return rows.map((r) => `${r.symbol} slice ${r.slice_start.toISOString()}: ${r.error_message}`);
}

/** What the run spent of Alpaca's budget, from the report's data. */
export function spendLine(s: Spend): string {
  const perRequest = s.requests > 0 ? formatCount(Math.round(s.bars / s.requests)) : "no";
  return `alpaca:            ${formatCount(s.requests)} requests used, ${perRequest} bars per request, ` +
    `${formatCount(s.rateLimited)} answered 429 (${formatCount(s.deferred)} of them deferred a run)`;
}

/**
 * How to query the data with psql. The embedded Postgres stops when npm start
 * exits, so without --keep-running the hint says the command works only then.
 */
export function queryHint(shownUrl: string, timeframe: string, embedded: boolean, keepRunning: boolean): string[] {
  const query = `select symbol, count(*) as bars, min(ts), max(ts) from public.bars ` +
    `where timeframe = '${timeframe}' group by symbol order by symbol`;
  const when = !embedded
    ? "Query the data:"
    : keepRunning
      ? "Query the data (the embedded Postgres stays up until you press Ctrl-C):"
      : "Query the data: this needs npm start -- --keep-running, because the embedded Postgres stops when npm start exits:";
  return [
    when,
    `  psql "${shownUrl}" -c "${query}"`,
    "  (monitoring views: public.job_progress, public.job_status_by_definition, public.job_recent_errors)",
  ];
}
