/**
 * Everything the report shows, read from the project's tables and views only
 * (job_progress, job_definitions, job_runs, bars, rate_bucket_minutes,
 * market_calendar, job_follow_status), so it reads a hosted database the same
 * way as a local one. The calendar's expectation is expectedBarsByDay, shared
 * with `jobs gaps`; how far behind a followed definition is, howCurrent.
 */
import type { Sql } from "postgres";
import { ALPACA_BUCKET } from "../../supabase/functions/_shared/rate-budget.ts";
import { loadCalendar } from "../jobs/calendar-cache.ts";
import { calendarCeiling, calendarDaysOf, daysOf, type GapQuery } from "../jobs/gaps-counts.ts";
import { type CoverageGrid, emptyGrid } from "./coverage.ts";

/** The newest failure records grouped in "recent errors". */
const RECENT_ERROR_ENTRIES = 2000;

export interface DefinitionSummary {
  id: number;
  kind: string;
  name: string;
  symbols: string[];
  timeframe: string;
  rangeStart: Date;
  rangeEnd: Date;
  done: number;
  failed: number;
  running: number;
  queued: number;
  cancelled: number;
  total: number;
  bars: number;
  pages: number;
  firstStartedAt: Date | null;
  lastActivityAt: Date | null;
  /** First and last New York day with stored bars for its symbols in its range. */
  coveredFrom: string | null;
  coveredTo: string | null;
  /** How current a followed definition is; null for a definition with a fixed range. */
  current: string | null;
}

export interface CoverageSection {
  timeframe: string;
  grid: CoverageGrid;
}

export interface MinuteSpend {
  minute: Date;
  requests: number;
  rateLimited: number;
  perMinute: number;
}

export interface Spend {
  /** The minutes in which the selected definitions' runs were active; null before any ran. */
  window: { from: Date; to: Date } | null;
  minutes: MinuteSpend[];
  requests: number;
  rateLimited: number;
  /** 429s that sent a run back to the queue (the others were waited out in place). */
  deferred: number;
  retries: number;
  leaseExpired: number;
  handBacks: number;
  pages: number;
  bars: number;
}

export interface ErrorGroup {
  kind: string;
  cause: string;
  count: number;
  runs: number;
  lastAt: Date;
  example: string;
}

export interface ReportData {
  generatedAt: Date;
  /** What was asked for: one definition, or all. */
  scope: string;
  definitions: DefinitionSummary[];
  coverage: CoverageSection[];
  spend: Spend;
  errors: ErrorGroup[];
}

/**
 * Bars the calendar allows per New York day for a query: the one expectation
 * `jobs gaps` uses too (calendarCeiling over the cached trading calendar, the
 * rules where no refresh covered a day).
 */
export async function expectedBarsByDay(sql: Sql, q: GapQuery): Promise<Map<string, number>> {
  const { firstDay, lastDay } = calendarDaysOf(q);
  return calendarCeiling(q, await loadCalendar(sql, firstDay, lastDay));
}

interface FollowRow {
  job_def_id: string;
  covered_through_day: string;
  days_behind: number;
}

/**
 * How current each followed (open-ended) definition is, from job_follow_status
 * (the view `jobs status` reads too), e.g. "through 2024-11-29, 0 behind".
 * Definitions with a fixed range are absent.
 */
export async function howCurrent(sql: Sql, ids: number[]): Promise<Map<number, string>> {
  const rows = await sql<FollowRow[]>`
    select job_def_id::text, covered_through_day::text, days_behind
      from public.job_follow_status where job_def_id = any(${ids}::bigint[])`;
  return new Map(rows.map((r) => [Number(r.job_def_id), `followed: through ${r.covered_through_day}, ${r.days_behind} session(s) behind`]));
}

interface ProgressRow {
  job_def_id: string;
  kind: string;
  symbol: string;
  symbols: string[];
  timeframe: string;
  range_start: Date;
  range_end: Date;
  slices_total: string;
  slices_done: string;
  slices_failed: string;
  slices_running: string;
  slices_queued: string;
  slices_cancelled: string;
  bars_written: string;
  pages_fetched: string;
  first_started_at: Date | null;
  last_activity_at: Date | null;
}

async function readDefinitions(sql: Sql, ids: number[] | undefined): Promise<Omit<DefinitionSummary, "coveredFrom" | "coveredTo" | "current">[]> {
  const rows = await sql<ProgressRow[]>`
    select p.*, array(select jsonb_array_elements_text(public.job_definition_symbols(d))) as symbols
      from public.job_progress p join public.job_definitions d on d.id = p.job_def_id
     where ${ids === undefined} or p.job_def_id = any(${ids ?? []}::bigint[])
     order by p.job_def_id`;
  return rows.map((r) => ({
    id: Number(r.job_def_id),
    kind: r.kind,
    name: r.symbol,
    symbols: r.symbols,
    timeframe: r.timeframe,
    rangeStart: r.range_start,
    rangeEnd: r.range_end,
    done: Number(r.slices_done),
    failed: Number(r.slices_failed),
    running: Number(r.slices_running),
    queued: Number(r.slices_queued),
    cancelled: Number(r.slices_cancelled),
    total: Number(r.slices_total),
    bars: Number(r.bars_written),
    pages: Number(r.pages_fetched),
    firstStartedAt: r.first_started_at,
    lastActivityAt: r.last_activity_at,
  }));
}

type Definition = Awaited<ReturnType<typeof readDefinitions>>[number];

/**
 * Bars stored per symbol and New York day, one row per symbol (its days and
 * counts as lists): the same count as `jobs gaps`, in a shape that reads 2
 * million symbol-days in a few seconds rather than as 2 million rows.
 */
async function storedPerSymbol(sql: Sql, timeframe: string, symbols: string[], start: Date, end: Date) {
  const rows = await sql<{ symbol: string; days: string; counts: string }[]>`
    select symbol, string_agg(day, ',' order by day) as days, string_agg(n::text, ',' order by day) as counts
      from (select symbol, to_char(ts at time zone 'America/New_York', 'YYYY-MM-DD') as day, count(*)::int as n
              from public.bars
             where timeframe = ${timeframe} and symbol = any(${symbols}::text[]) and ts >= ${start} and ts < ${end}
             group by 1, 2) per_day
     group by symbol`;
  return rows.map((r) => ({ symbol: r.symbol, days: r.days.split(","), counts: r.counts.split(",").map(Number) }));
}

/** One grid per timeframe: the union of its definitions' symbols and days. */
async function readCoverage(sql: Sql, defs: Definition[]): Promise<CoverageSection[]> {
  const sections: CoverageSection[] = [];
  for (const timeframe of [...new Set(defs.map((d) => d.timeframe))].sort()) {
    const group = defs.filter((d) => d.timeframe === timeframe && d.symbols.length > 0);
    if (group.length === 0) continue;
    const symbols = [...new Set(group.flatMap((d) => d.symbols))].sort();
    const start = new Date(Math.min(...group.map((d) => d.rangeStart.getTime())));
    const end = new Date(Math.max(...group.map((d) => d.rangeEnd.getTime())));
    const base = { timeframe, feed: "sip", adjustment: "raw" };
    const stored = await storedPerSymbol(sql, timeframe, symbols, start, end);
    // Baskets of one plan share a range: the calendar is asked once per range.
    const byRange = new Map<string, Map<string, number>>();
    const expectations: Map<string, number>[] = [];
    for (const d of group) {
      const key = `${d.rangeStart.toISOString()}|${d.rangeEnd.toISOString()}`;
      if (!byRange.has(key)) byRange.set(key, await expectedBarsByDay(sql, { ...base, symbols: d.symbols, start: d.rangeStart, end: d.rangeEnd }));
      expectations.push(byRange.get(key)!);
    }
    const dayKeys = new Set<string>();
    for (const e of expectations) for (const [day, n] of e) if (n > 0) dayKeys.add(day);
    for (const { days } of stored) for (const day of days) dayKeys.add(day);
    const days = [...dayKeys].sort();
    const grid = emptyGrid(symbols, days);
    const [row, col] = [new Map(symbols.map((s, i) => [s, i])), new Map(days.map((d, i) => [d, i]))];
    const at = (symbol: string, day: string) => row.get(symbol)! * days.length + col.get(day)!;
    group.forEach((d, i) => {
      for (const [day, n] of expectations[i]!) {
        if (n === 0) continue;
        for (const s of d.symbols) grid.expected[at(s, day)] = Math.max(grid.expected[at(s, day)]!, n);
      }
    });
    for (const { symbol, days: storedDays, counts } of stored) {
      storedDays.forEach((day, i) => (grid.stored[at(symbol, day)] = counts[i]!));
    }
    const open = await sql<{ job_def_id: string; slice_start: Date; slice_end: Date }[]>`
      select job_def_id, slice_start, slice_end from public.job_runs
       where job_def_id = any(${group.map((d) => d.id)}::bigint[]) and status in ('queued', 'running')`;
    const byId = new Map(group.map((d) => [d.id, d]));
    for (const r of open) {
      for (const day of daysOf({ start: r.slice_start, end: r.slice_end })) {
        if (!col.has(day)) continue;
        for (const s of byId.get(Number(r.job_def_id))!.symbols) grid.pending[at(s, day)] = 1;
      }
    }
    sections.push({ timeframe, grid });
  }
  return sections;
}

/** First and last day with bars, per definition, from the grids already read. */
function coveredSpan(def: Definition, sections: CoverageSection[]): { coveredFrom: string | null; coveredTo: string | null } {
  const grid = sections.find((s) => s.timeframe === def.timeframe)?.grid;
  if (!grid) return { coveredFrom: null, coveredTo: null };
  const inRange = new Set(daysOf({ start: def.rangeStart, end: def.rangeEnd }));
  const wanted = new Set(def.symbols);
  const rows = grid.symbols.flatMap((s, i) => (wanted.has(s) ? [i] : []));
  let [from, to]: [string | null, string | null] = [null, null];
  grid.days.forEach((day, d) => {
    if (!inRange.has(day) || !rows.some((r) => grid.stored[r * grid.days.length + d]! > 0)) return;
    from ??= day;
    to = day;
  });
  return { coveredFrom: from, coveredTo: to };
}

async function readSpend(sql: Sql, defs: Definition[]): Promise<Spend> {
  const ids = defs.map((d) => d.id);
  const started = defs.map((d) => d.firstStartedAt?.getTime()).filter((t): t is number => t !== undefined);
  const active = defs.map((d) => d.lastActivityAt?.getTime()).filter((t): t is number => t !== undefined);
  const window = started.length ? { from: new Date(Math.min(...started)), to: new Date(Math.max(...active)) } : null;
  const minutes = window
    ? (await sql<{ minute: Date; requests: number; rate_limited: number; per_minute: number }[]>`
        select minute, requests, rate_limited, per_minute from public.rate_bucket_minutes
         where bucket = ${ALPACA_BUCKET} and minute >= date_trunc('minute', ${window.from}::timestamptz)
           and minute <= ${window.to}::timestamptz
         order by minute`).map((m) => ({ minute: m.minute, requests: m.requests, rateLimited: m.rate_limited, perMinute: m.per_minute }))
    : [];
  const kinds = await sql<{ kind: string; n: number }[]>`
    select e->>'kind' as kind, count(*)::int as n
      from public.job_runs r cross join lateral jsonb_array_elements(r.errors) e
     where r.job_def_id = any(${ids}::bigint[]) group by 1`;
  const count = (kind: string) => kinds.find((k) => k.kind === kind)?.n ?? 0;
  return {
    window,
    minutes,
    requests: minutes.reduce((n, m) => n + m.requests, 0),
    rateLimited: minutes.reduce((n, m) => n + m.rateLimited, 0),
    deferred: count("rate_limited"),
    retries: count("retryable") + count("permanent"),
    leaseExpired: count("lease_expired"),
    handBacks: count("handed_back"),
    pages: defs.reduce((n, d) => n + d.pages, 0),
    bars: defs.reduce((n, d) => n + d.bars, 0),
  };
}

/** A message with its particulars (numbers, ids, quoted values) masked, so one cause groups its occurrences. */
export function causeOf(message: string): string {
  return message
    .replace(/"[^"]*"|'[^']*'/g, "…")
    .replace(/\b\d{4}-\d{2}-\d{2}T[\d:.]+Z?\b/g, "<time>")
    .replace(/\d+(\.\d+)?/g, "#")
    .replace(/\s+/g, " ")
    .trim()
    .slice(0, 200);
}

async function readErrors(sql: Sql, ids: number[]): Promise<ErrorGroup[]> {
  // Hand-backs are not errors (a run given back before an isolate limit; counted under the spend),
  // except the one that failed a run which never progressed: that one is its run's error.
  const entries = await sql<{ kind: string; message: string | null; at: Date; run_id: string }[]>`
    select case when e->>'kind' = 'handed_back' then 'failed after hand-backs' else e->>'kind' end as kind,
           e->>'message' as message, (e->>'at')::timestamptz as at, r.id as run_id
      from public.job_runs r cross join lateral jsonb_array_elements(r.errors) with ordinality as x(e, n)
     where r.job_def_id = any(${ids}::bigint[])
       and (e->>'kind' <> 'handed_back' or (r.status = 'failed' and x.n = jsonb_array_length(r.errors)))
     order by (e->>'at')::timestamptz desc limit ${RECENT_ERROR_ENTRIES}`;
  const groups = new Map<string, ErrorGroup & { runIds: Set<string> }>();
  for (const e of entries) {
    const message = e.message ?? "(no message)";
    const key = `${e.kind}|${causeOf(message)}`;
    let g = groups.get(key);
    if (!g) {
      g = { kind: e.kind, cause: causeOf(message), count: 0, runs: 0, lastAt: e.at, example: message, runIds: new Set() };
      groups.set(key, g);
    }
    g.count++;
    g.runIds.add(e.run_id);
    g.runs = g.runIds.size;
  }
  return [...groups.values()].map(({ runIds: _, ...g }) => g).sort((a, b) => b.count - a.count || +b.lastAt - +a.lastAt);
}

/** The report's data for the definitions `ids`, or for every definition when `ids` is undefined. */
export async function readReportData(sql: Sql, ids: number[] | undefined): Promise<ReportData> {
  const defs = await readDefinitions(sql, ids);
  const missing = (ids ?? []).filter((id) => !defs.some((d) => d.id === id));
  if (missing.length) throw new Error(`no definition with --id ${missing.join(", ")}`);
  const coverage = await readCoverage(sql, defs);
  const current = await howCurrent(sql, defs.map((d) => d.id));
  return {
    generatedAt: new Date(),
    scope: ids === undefined ? "all definitions" : `definition${ids.length === 1 ? "" : "s"} ${ids.join(", ")}`,
    definitions: defs.map((d) => {
      const def = { ...d, ...coveredSpan(d, coverage) };
      return { ...def, current: current.get(d.id) ?? null };
    }),
    coverage,
    spend: await readSpend(sql, defs),
    errors: await readErrors(sql, defs.map((d) => d.id)),
  };
}
