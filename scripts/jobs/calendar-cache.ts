/**
 * The trading calendar as the jobs CLI sees it: sessions from Alpaca's
 * `GET /v2/calendar`, cached in Postgres by `refresh_market_calendar()` one
 * New York day range at a time, read back for planning and `gaps`.
 *
 * The rule calendar (scripts/lib/market-calendar) is only a fallback, and
 * always labelled as such: for a calendar year of the range where Alpaca
 * answers no session at all but the rules expect some (Alpaca's calendar
 * ends in 2029), those rules' sessions are cached with source 'rules'; and a
 * reader asking about a day no refresh covered gets the rules' answer marked
 * 'rules, not cached'.
 */
import type { Sql, TransactionSql } from "postgres";
import type { AlpacaTradingClient } from "../../supabase/functions/_shared/alpaca/trading.ts";
import { alpacaCalendarDays, civilFromDays, formatDay, parseDay, type Session, sessionBounds } from "../lib/market-calendar/index.ts";

export type CalendarSource = "alpaca" | "rules" | "rules, not cached";

export interface CalendarView {
  /** The session of a New York day (day number), or null when the market is closed. */
  sessionOf(dayNumber: number): Session | null;
  sourceOf(dayNumber: number): CalendarSource;
}

export interface RefreshResult {
  firstDay: string;
  lastDay: string;
  alpaca: number;
  rules: number;
  /** False when the cache already covered the range and nothing was asked. */
  refreshed: boolean;
}

type SourcedRow = ReturnType<typeof alpacaCalendarDays>[number] | Awaited<ReturnType<AlpacaTradingClient["calendar"]>>[number];

/** Alpaca's sessions for the day range, and the rules' for each year of it where Alpaca has none. */
export async function fetchSessions(client: AlpacaTradingClient, firstDay: number, lastDay: number) {
  const fromAlpaca = await client.calendar(formatDay(firstDay), formatDay(lastDay));
  const rows: Array<SourcedRow & { source: "alpaca" | "rules" }> = fromAlpaca
    .filter((r) => parseDay(r.date)! >= firstDay && parseDay(r.date)! <= lastDay)
    .map((r) => ({ ...r, source: "alpaca" as const }));
  const yearsAnswered = new Set(rows.map((r) => r.date.slice(0, 4)));
  for (let y = civilFromDays(firstDay).y; y <= civilFromDays(lastDay).y; y++) {
    if (yearsAnswered.has(String(y))) continue;
    const from = Math.max(firstDay, parseDay(`${y}-01-01`)!);
    const to = Math.min(lastDay, parseDay(`${y}-12-31`)!);
    rows.push(...alpacaCalendarDays(from, to).map((r) => ({ ...r, source: "rules" as const })));
  }
  return rows.sort((a, b) => (a.date < b.date ? -1 : 1));
}

/** Replaces the cached range with a fresh answer (one SQL call: all of it or nothing). */
export async function refreshCalendar(sql: Sql | TransactionSql, client: AlpacaTradingClient, firstDay: number, lastDay: number): Promise<RefreshResult> {
  const rows = await fetchSessions(client, firstDay, lastDay);
  await sql`select public.refresh_market_calendar(${formatDay(firstDay)}, ${formatDay(lastDay)}, ${sql.json(rows as never)})`;
  return {
    firstDay: formatDay(firstDay),
    lastDay: formatDay(lastDay),
    alpaca: rows.filter((r) => r.source === "alpaca").length,
    rules: rows.filter((r) => r.source === "rules").length,
    refreshed: true,
  };
}

export async function calendarCovers(sql: Sql | TransactionSql, firstDay: number, lastDay: number): Promise<boolean> {
  const [{ covered }] = await sql<{ covered: boolean }[]>`
    select public.market_calendar_covers(${formatDay(firstDay)}, ${formatDay(lastDay)}) as covered`;
  return covered!;
}

/** Refreshes the range only when some day of it is not cached yet. */
export async function ensureCalendar(sql: Sql | TransactionSql, client: AlpacaTradingClient, firstDay: number, lastDay: number): Promise<RefreshResult> {
  if (await calendarCovers(sql, firstDay, lastDay)) {
    return { firstDay: formatDay(firstDay), lastDay: formatDay(lastDay), alpaca: 0, rules: 0, refreshed: false };
  }
  return await refreshCalendar(sql, client, firstDay, lastDay);
}

/** The cached calendar of the day range, the rules filling (and labelled on) the days no refresh covered. */
export async function loadCalendar(sql: Sql, firstDay: number, lastDay: number): Promise<CalendarView> {
  const [from, to] = [formatDay(firstDay), formatDay(lastDay)];
  const cached = await sql<{ day: string; half_day: boolean; source: "alpaca" | "rules"; ro: Date; rc: Date; so: Date; sc: Date }[]>`
    select day::text, half_day, source, regular_open as ro, regular_close as rc, session_open as so, session_close as sc
      from public.market_calendar where day between ${from} and ${to}`;
  const ranges = await sql<{ first_day: string; last_day: string }[]>`
    select first_day::text, last_day::text from public.market_calendar_ranges where first_day <= ${to} and last_day >= ${from}`;
  const sessions = new Map(cached.map((r) => {
    const n = parseDay(r.day)!;
    const session: Session = {
      day: r.day, dayNumber: n, halfDay: r.half_day,
      extendedOpen: r.so.getTime(), regularOpen: r.ro.getTime(), regularClose: r.rc.getTime(), extendedClose: r.sc.getTime(),
    };
    return [n, { session, source: r.source }] as const;
  }));
  const coveredRanges = ranges.map((r) => [parseDay(r.first_day)!, parseDay(r.last_day)!] as const);
  const covered = (n: number) => coveredRanges.some(([first, last]) => first <= n && n <= last);
  // fetchSessions takes a whole year of a range from one source, so a closed day shares its year's.
  const yearSource = new Map(cached.map((r) => [r.day.slice(0, 4), r.source]));
  return {
    sessionOf: (n) => (covered(n) ? sessions.get(n)?.session ?? null : sessionBounds(n)),
    sourceOf: (n) => {
      if (!covered(n)) return "rules, not cached";
      return sessions.get(n)?.source ?? yearSource.get(formatDay(n).slice(0, 4)) ?? "alpaca";
    },
  };
}

export interface RangeCalendar {
  firstDay: string;
  lastDay: string;
  /** True when every day is cached; otherwise `sessions` counts the rule calendar's. */
  cached: boolean;
  sessions: number;
}

/** How many sessions a range holds: from the cache when it covers every day, else by rule (and said so). */
export async function sessionsInRange(sql: Sql | TransactionSql, firstDay: number, lastDay: number): Promise<RangeCalendar> {
  const range = { firstDay: formatDay(firstDay), lastDay: formatDay(lastDay) };
  if (await calendarCovers(sql, firstDay, lastDay)) {
    const [{ n }] = await sql<{ n: number }[]>`
      select count(*)::int as n from public.market_calendar where day between ${range.firstDay} and ${range.lastDay}`;
    return { ...range, cached: true, sessions: n! };
  }
  let sessions = 0;
  for (let n = firstDay; n <= lastDay; n++) if (sessionBounds(n)) sessions++;
  return { ...range, cached: false, sessions };
}

export function describeRangeCalendar(c: RangeCalendar): string {
  const head = `calendar: ${c.firstDay} .. ${c.lastDay}, ${c.sessions} session(s)`;
  const source = c.cached
    ? " (cached)"
    : ` (by rule, not cached: npm run jobs -- calendar refresh --from ${c.firstDay} --to ${formatDay(parseDay(c.lastDay)! + 1)} caches Alpaca's)`;
  return head + source + (c.sessions === 0 ? "; no trading session in the range: its slices will store nothing" : "");
}
