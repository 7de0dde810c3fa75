/**
 * Progress per definition, read from `public.job_progress`, with a bar rate
 * over a sliding window and an ETA: bars are assumed proportional to the
 * weekdays a slice covers (markets close at weekends), so the slices that
 * succeeded predict the total.
 */
import type { Sql } from "postgres";

export interface DefinitionProgress {
  id: number;
  name: string;
  kind: string;
  timeframe: string;
  symbols: number;
  enabled: boolean;
  total: number;
  done: number;
  failed: number;
  running: number;
  queued: number;
  cancelled: number;
  bars: number;
  /** Bars stored by the slices that succeeded, and weekdays covered by those and by all slices (ETA). */
  barsOfDoneSlices: number;
  weekdaysOfDoneSlices: number;
  weekdaysOfAllSlices: number;
}

export async function readProgress(sql: Sql, ids: number[]): Promise<DefinitionProgress[]> {
  const rows = await sql<Record<string, string | number | boolean>[]>`
    select p.job_def_id, p.symbol, p.kind, p.timeframe, p.symbols_count, p.enabled, p.slices_total, p.slices_done,
           p.slices_failed, p.slices_running, p.slices_queued, p.slices_cancelled, p.bars_written,
           w.bars_of_done_slices, w.weekdays_of_done_slices, w.weekdays_of_all_slices
      from public.job_progress p
      cross join lateral (
        select coalesce(sum(r.rows_written) filter (where r.status = 'success'), 0) as bars_of_done_slices,
               coalesce(sum(d.weekdays) filter (where r.status = 'success'), 0) as weekdays_of_done_slices,
               coalesce(sum(d.weekdays) filter (where r.status not in ('cancelled', 'failed')), 0) as weekdays_of_all_slices
          from public.job_runs r
          cross join lateral (
            select count(*) as weekdays
              from generate_series(r.slice_start, r.slice_end - interval '1 microsecond', interval '1 day') as g(day)
             where extract(isodow from g.day at time zone 'UTC') < 6) d
         where r.job_def_id = p.job_def_id) w
     where p.job_def_id = any(${ids}::bigint[])
     order by p.job_def_id`;
  return rows.map((r) => ({
    id: Number(r.job_def_id),
    name: String(r.symbol),
    kind: String(r.kind),
    timeframe: String(r.timeframe),
    symbols: Number(r.symbols_count),
    enabled: r.enabled === true,
    total: Number(r.slices_total),
    done: Number(r.slices_done),
    failed: Number(r.slices_failed),
    running: Number(r.slices_running),
    queued: Number(r.slices_queued),
    cancelled: Number(r.slices_cancelled),
    bars: Number(r.bars_written),
    barsOfDoneSlices: Number(r.bars_of_done_slices),
    weekdaysOfDoneSlices: Number(r.weekdays_of_done_slices),
    weekdaysOfAllSlices: Number(r.weekdays_of_all_slices),
  }));
}

/** Nothing running, and nothing queued that the orchestrator would claim (a disabled definition's runs wait). */
export const isDrained = (rows: DefinitionProgress[]) => rows.every((r) => r.running === 0 && (r.queued === 0 || !r.enabled));
export const allSucceeded = (rows: DefinitionProgress[]) => rows.length > 0 && rows.every((r) => r.done === r.total);

export interface Estimate {
  /** Bars per second over the last few seconds. */
  rate: number;
  /** Seconds left; undefined while unknown. */
  etaSeconds: number | undefined;
}

/** Keeps (time, bars) samples per definition to turn snapshots into a rate and an ETA. */
export class RateTracker {
  private samples = new Map<number, Array<{ t: number; bars: number }>>();

  constructor(private readonly windowMs = 10_000) {}

  estimate(p: DefinitionProgress, now = Date.now()): Estimate {
    const list = this.samples.get(p.id) ?? [];
    list.push({ t: now, bars: p.bars });
    while (list.length > 2 && list[0]!.t < now - this.windowMs) list.shift();
    this.samples.set(p.id, list);
    const first = list[0]!;
    const seconds = (now - first.t) / 1000;
    const rate = seconds > 0 ? Math.max(0, (p.bars - first.bars) / seconds) : 0;
    if (p.queued === 0 && p.running === 0) return { rate, etaSeconds: 0 };
    if (p.weekdaysOfDoneSlices === 0 || p.barsOfDoneSlices === 0 || rate <= 0) return { rate, etaSeconds: undefined };
    const expectedBars = (p.barsOfDoneSlices / p.weekdaysOfDoneSlices) * p.weekdaysOfAllSlices;
    return { rate, etaSeconds: Math.max(0, (expectedBars - p.bars) / rate) };
  }
}

export function formatDuration(seconds: number | undefined): string {
  if (seconds === undefined || !Number.isFinite(seconds)) return "--";
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, "0")}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, "0")}m`;
}

export const formatCount = (n: number) => Math.round(n).toLocaleString("en-US");

/** 1234 → 1.2k, 1056417 → 1.06M. */
export function formatCompact(n: number): string {
  if (n < 1000) return String(Math.round(n));
  if (n < 1_000_000) return `${(n / 1000).toFixed(n < 10_000 ? 1 : 0)}k`;
  return `${(n / 1_000_000).toFixed(2)}M`;
}
