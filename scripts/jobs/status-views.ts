/** The views behind `jobs status`: job_progress (default), job_status_by_definition (--by-status), job_batch_detection (--routing). */
import type { DefinitionRow, DefinitionView } from "./definition-view.ts";
import { formatInstant } from "./format.ts";

export interface ProgressRow extends DefinitionRow {
  symbols_count: number;
  timeframe: string;
  range_start: Date;
  range_end: Date;
  enabled: boolean;
  slices_done: number;
  slices_failed: number;
  slices_running: number;
  slices_queued: number;
  slices_cancelled: number;
  slices_total: number;
  bars_written: number;
  last_activity_at: Date | null;
  /** Followed definitions only (null otherwise): the last New York day covered, and sessions not covered yet. */
  covered_through_day: string | null;
  days_behind: number | null;
}

/** "through 2024-03-08, 0 behind" for a followed definition, "" for a fixed range. */
function followed(r: { covered_through_day: string | null; days_behind: number | null }): string {
  return r.covered_through_day === null ? "" : `through ${r.covered_through_day}, ${r.days_behind} behind`;
}

/** job_progress: slices per state and bars written, one line per definition. */
export const progressView: DefinitionView<ProgressRow> = {
  select: (sql, where) => sql<ProgressRow[]>`
    select job_def_id::text, kind, symbol, symbols_count::int, timeframe, range_start, range_end, enabled,
           slices_done::int, slices_failed::int, slices_running::int, slices_queued::int, slices_cancelled::int,
           slices_total::int, bars_written::float8 as bars_written, last_activity_at,
           f.covered_through_day::text, f.days_behind
      from public.job_progress
      left join (select job_def_id, covered_through_day, days_behind from public.job_follow_status) f using (job_def_id)
     where ${where}
     order by job_def_id`,
  columns: [
    { header: "symbols", value: (r) => r.symbols_count },
    { header: "timeframe", value: (r) => r.timeframe },
    { header: "enabled", value: (r) => (r.enabled ? "yes" : "no") },
    { header: "done", value: (r) => r.slices_done },
    { header: "failed", value: (r) => r.slices_failed },
    { header: "running", value: (r) => r.slices_running },
    { header: "queued", value: (r) => r.slices_queued },
    { header: "cancelled", value: (r) => r.slices_cancelled },
    { header: "total", value: (r) => r.slices_total },
    { header: "bars", value: (r) => r.bars_written },
    { header: "last activity", value: (r) => formatInstant(r.last_activity_at) },
    { header: "follow", value: followed },
  ],
  empty: "no job definitions",
  summary(rows) {
    const sum = (key: keyof ProgressRow) => rows.reduce((n, r) => n + Number(r[key]), 0);
    return `${rows.length} definition(s): ${sum("slices_done")}/${sum("slices_total")} slices done, ` +
      `${sum("slices_failed")} failed, ${sum("bars_written")} bars written`;
  },
};

interface ByStatusRow extends DefinitionRow {
  symbols_count: number;
  timeframe: string;
  status: string;
  runs: number;
  bars_written: number;
}

/** job_status_by_definition: runs and bars per definition and run status. */
export const byStatusView: DefinitionView<ByStatusRow> = {
  select: (sql, where) => sql<ByStatusRow[]>`
    select job_def_id::text, kind, symbol, symbols_count::int, timeframe, status, runs::int, bars_written::float8 as bars_written
      from public.job_status_by_definition
     where ${where}
     order by job_def_id, status`,
  columns: [
    { header: "symbols", value: (r) => r.symbols_count },
    { header: "timeframe", value: (r) => r.timeframe },
    { header: "status", value: (r) => r.status },
    { header: "runs", value: (r) => r.runs },
    { header: "bars", value: (r) => r.bars_written },
  ],
};

interface RoutingRow extends DefinitionRow {
  symbols_count: number | null;
  routed_to: string;
  old_inference: string;
  old_inference_was_wrong: boolean;
}

/** job_batch_detection: the stored kind, the route it takes, and what the old system would have inferred. */
export const routingView: DefinitionView<RoutingRow> = {
  select: (sql, where) => sql<RoutingRow[]>`
    select job_def_id::text, symbol, kind, symbols_count, routed_to, old_inference, old_inference_was_wrong
      from public.job_batch_detection
     where ${where}
     order by job_def_id`,
  columns: [
    // Null where the definition has no symbols_array (a single symbol).
    { header: "symbols", value: (r) => r.symbols_count ?? 1 },
    { header: "routed to", value: (r) => r.routed_to },
    { header: "old inference", value: (r) => r.old_inference },
    { header: "old was wrong", value: (r) => (r.old_inference_was_wrong ? "yes" : "no") },
  ],
};

interface FollowRow extends DefinitionRow {
  timeframe: string;
  feed: string;
  range_start: Date;
  covered_to: Date;
  covered_through_day: string;
  caught_up_at: Date | null;
  caught_up_until: Date | null;
  completed_to: Date;
  days_behind: number;
  enabled: boolean;
}

/** job_follow_status: how current each followed definition is. */
export const followView: DefinitionView<FollowRow> = {
  select: (sql, where) => sql<FollowRow[]>`
    select job_def_id::text, kind, symbol, timeframe, feed, range_start, covered_to, covered_through_day::text,
           caught_up_at, caught_up_until, completed_to, days_behind, enabled
      from public.job_follow_status
     where ${where}
     order by job_def_id`,
  columns: [
    { header: "timeframe", value: (r) => r.timeframe },
    { header: "feed", value: (r) => r.feed },
    { header: "enabled", value: (r) => (r.enabled ? "yes" : "no") },
    { header: "from", value: (r) => formatInstant(r.range_start) },
    { header: "covered through", value: (r) => r.covered_through_day },
    { header: "last catch-up", value: (r) => formatInstant(r.caught_up_at) },
    { header: "until", value: (r) => formatInstant(r.caught_up_until) },
    { header: "behind", value: (r) => `${r.days_behind} session(s)` },
  ],
  empty: "no followed definitions",
  summary(rows) {
    const behind = rows.filter((r) => r.days_behind > 0).length;
    return `${rows.length} followed definition(s): ${rows.length - behind} current, ${behind} behind ` +
      "(behind: sessions completed since the covered end, from the cached trading calendar; weekdays where it has no days)";
  },
};
