/**
 * Bar counts per (symbol, New York day) for `jobs gaps`: what is stored, the
 * most the market calendar allows (buckets of the timeframe that overlap the
 * session's extended hours, as the cached calendar gives them: 04:00–20:00 ET,
 * 17:00 on half days), and, for data from the Alpaca simulator, its exact
 * ground truth.
 */
import type { Sql } from "postgres";
import { expectedBars } from "../alpaca-sim/ground-truth.ts";
import type { DataFeed } from "../alpaca-sim/minute-bars.ts";
import { bucketFloor, bucketNext, formatDay, nyDay, nyDayOf, parseDay, parseTimeframe, type Session } from "../lib/market-calendar/index.ts";
import type { CalendarSource, CalendarView } from "./calendar-cache.ts";

export interface GapQuery {
  symbols: string[];
  timeframe: string;
  feed: string;
  adjustment: string;
  /** [start, end): bars are counted by their bucket start. */
  start: Date;
  end: Date;
}

/** Counts keyed by `${symbol}|${YYYY-MM-DD}`. */
export type DayCounts = Map<string, number>;
export const dayKey = (symbol: string, day: string) => `${symbol}|${day}`;

/** New York days that overlap [start, end), in order. */
export function daysOf(q: Pick<GapQuery, "start" | "end">): string[] {
  const days: string[] = [];
  for (let n = nyDayOf(q.start.getTime()); n <= nyDayOf(q.end.getTime() - 1); n++) days.push(formatDay(n));
  return days;
}

/** The New York days the calendar must answer for a query: one either side, for buckets that straddle midnight. */
export function calendarDaysOf(q: GapQuery): { firstDay: number; lastDay: number } {
  return { firstDay: nyDayOf(q.start.getTime()) - 1, lastDay: nyDayOf(q.end.getTime() - 1) + 1 };
}

/** Most bars one symbol can have per New York day in [start, end), by the calendar. Days without a bucket are absent. */
export function calendarCeiling(q: GapQuery, calendar: CalendarView): Map<string, number> {
  const tf = parseTimeframe(q.timeframe);
  if (!tf) throw new Error(`not a timeframe: ${q.timeframe}`);
  const [startMs, endMs] = [q.start.getTime(), q.end.getTime()];
  const buckets = new Set<number>();
  // One day either side: a bucket that starts the evening before can overlap a session.
  for (let n = nyDayOf(startMs) - 1; n <= nyDayOf(endMs - 1) + 1; n++) {
    const s = calendar.sessionOf(n);
    if (!s) continue;
    for (let b = bucketFloor(tf, s.extendedOpen); b < s.extendedClose; b = bucketNext(tf, b)) {
      if (b >= startMs && b < endMs) buckets.add(b);
    }
  }
  const perDay = new Map<string, number>();
  for (const b of buckets) perDay.set(nyDay(b), (perDay.get(nyDay(b)) ?? 0) + 1);
  return perDay;
}

export async function storedCounts(sql: Sql, q: GapQuery): Promise<DayCounts> {
  const rows = await sql<{ symbol: string; day: string; n: number }[]>`
    select symbol, to_char(ts at time zone 'America/New_York', 'YYYY-MM-DD') as day, count(*)::int as n
      from public.bars
     where timeframe = ${q.timeframe} and symbol in ${sql(q.symbols)} and ts >= ${q.start} and ts < ${q.end}
     group by 1, 2`;
  return new Map(rows.map((r) => [dayKey(r.symbol, r.day), r.n]));
}

/** The simulator's exact rows for the query, counted per symbol and day. */
export function groundTruthCounts(q: GapQuery): DayCounts {
  const counts: DayCounts = new Map();
  const bars = expectedBars({
    symbols: q.symbols,
    timeframe: q.timeframe,
    feed: q.feed as DataFeed,
    adjustment: q.adjustment,
    start: q.start.toISOString(),
    // The API's end is inclusive; the range's end is not.
    end: new Date(q.end.getTime() - 1).toISOString(),
  });
  for (const bar of bars) {
    const key = dayKey(bar.symbol, nyDay(Date.parse(bar.t)));
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return counts;
}

export interface GapRow {
  symbol: string;
  day: string;
  session: "full" | "half" | "closed";
  /** Where the day's session (or its absence) comes from. */
  calendar: CalendarSource;
  stored: number;
  ceiling: number;
  truth?: number;
  flags: string[];
  /** Why a trading day has no bars, when that can be told (gaps-reasons.ts). */
  why?: string;
}

/** Explains a trading day without bars for a symbol. */
export type ExplainMissing = (symbol: string, session: Session) => string;

/** One row per symbol and day that has a bucket, a stored bar or a true bar. */
export function gapRows(q: GapQuery, calendar: CalendarView, stored: DayCounts, truth?: DayCounts, explain?: ExplainMissing): GapRow[] {
  const ceiling = calendarCeiling(q, calendar);
  const rows: GapRow[] = [];
  for (const symbol of q.symbols) {
    for (const day of daysOf(q)) {
      const session = calendar.sessionOf(parseDay(day)!);
      const trading = session !== null;
      const row: GapRow = {
        symbol,
        day,
        session: !session ? "closed" : session.halfDay ? "half" : "full",
        calendar: calendar.sourceOf(parseDay(day)!),
        stored: stored.get(dayKey(symbol, day)) ?? 0,
        ceiling: ceiling.get(day) ?? 0,
        truth: truth ? truth.get(dayKey(symbol, day)) ?? 0 : undefined,
        flags: [],
      };
      if (row.ceiling === 0 && row.stored === 0 && !row.truth) continue;
      if (row.ceiling > 0 && row.stored === 0) {
        row.flags.push("no bars on a trading day");
        if (session && explain) row.why = explain(symbol, session);
      }
      if (!trading && row.stored > 0) row.flags.push("bars on a non-trading day");
      else if (row.stored > row.ceiling) row.flags.push("more bars than the calendar allows");
      if (row.truth !== undefined && row.stored < row.truth) row.flags.push(`${row.truth - row.stored} missing vs ground truth`);
      if (row.truth !== undefined && row.stored > row.truth) row.flags.push(`${row.stored - row.truth} extra vs ground truth`);
      rows.push(row);
    }
  }
  return rows;
}
