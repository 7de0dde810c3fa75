/**
 * NYSE trading calendar by rule (valid 2007 onwards; tested 2015–2030):
 * full-day holidays with weekend observance, the 13:00 early closes, and the
 * 04:00–20:00 New York extended session (17:00 on half days). Reused by the
 * simulator's data generator and by operator tooling (gap detection).
 */
import {
  civilFromDays,
  daysFromCivil,
  easterSunday,
  formatDay,
  lastWeekday,
  nthWeekday,
  nyDayOf,
  nyLocalToUtc,
  parseDay,
  weekday,
} from "./civil-date.ts";

export interface Session {
  /** New York calendar day, 'YYYY-MM-DD'. */
  day: string;
  dayNumber: number;
  halfDay: boolean;
  /** UTC epoch ms. Extended session: [extendedOpen, extendedClose). */
  extendedOpen: number;
  regularOpen: number;
  regularClose: number;
  extendedClose: number;
}

/** One-off closures (national days of mourning, weather). */
const SPECIAL_CLOSURES = ["2012-10-29", "2012-10-30", "2018-12-05", "2025-01-09"];

/** Saturday holidays move to Friday, Sunday ones to Monday. */
function observed(dayNumber: number): number {
  const wd = weekday(dayNumber);
  return wd === 6 ? dayNumber - 1 : wd === 0 ? dayNumber + 1 : dayNumber;
}

const holidayCache = new Map<number, Set<number>>();

/** Full-day NYSE holidays of a year (day numbers). */
export function holidaysOf(y: number): Set<number> {
  const cached = holidayCache.get(y);
  if (cached) return cached;
  const days: number[] = [];
  // New Year's Day on a Saturday is not observed on the preceding Friday.
  const newYear = daysFromCivil(y, 1, 1);
  if (weekday(newYear) !== 6) days.push(observed(newYear));
  days.push(nthWeekday(y, 1, 1, 3)); // Martin Luther King Jr. Day
  days.push(nthWeekday(y, 2, 1, 3)); // Washington's Birthday
  days.push(easterSunday(y) - 2); // Good Friday
  days.push(lastWeekday(y, 5, 1)); // Memorial Day
  if (y >= 2022) days.push(observed(daysFromCivil(y, 6, 19))); // Juneteenth
  days.push(observed(daysFromCivil(y, 7, 4))); // Independence Day
  days.push(nthWeekday(y, 9, 1, 1)); // Labor Day
  days.push(nthWeekday(y, 11, 4, 4)); // Thanksgiving
  days.push(observed(daysFromCivil(y, 12, 25))); // Christmas
  for (const s of SPECIAL_CLOSURES) {
    const n = parseDay(s)!;
    if (s.startsWith(`${y}-`)) days.push(n);
  }
  const set = new Set(days);
  holidayCache.set(y, set);
  return set;
}

function yearOf(dayNumber: number): number {
  return civilFromDays(dayNumber).y;
}

function isTradingDayNumber(dayNumber: number): boolean {
  const wd = weekday(dayNumber);
  if (wd === 0 || wd === 6) return false;
  return !holidaysOf(yearOf(dayNumber)).has(dayNumber);
}

/** 13:00 closes: July 3 and Dec 24 when Mon–Thu, and the day after Thanksgiving. */
function isHalfDayNumber(dayNumber: number): boolean {
  if (!isTradingDayNumber(dayNumber)) return false;
  const { m, d } = civilFromDays(dayNumber);
  const wd = weekday(dayNumber);
  const eve = (m === 7 && d === 3) || (m === 12 && d === 24);
  if (eve && wd >= 1 && wd <= 4) return true;
  return dayNumber === nthWeekday(yearOf(dayNumber), 11, 4, 4) + 1;
}

function toDayNumber(day: string | number): number {
  if (typeof day === "number") return day;
  const n = parseDay(day);
  if (n === undefined) throw new RangeError(`not a calendar day: ${day}`);
  return n;
}

export function isTradingDay(day: string | number): boolean {
  return isTradingDayNumber(toDayNumber(day));
}

export function isHalfDay(day: string | number): boolean {
  return isHalfDayNumber(toDayNumber(day));
}

/** Session bounds of a New York day, or null when the market is closed. */
export function sessionBounds(day: string | number): Session | null {
  const n = toDayNumber(day);
  if (!isTradingDayNumber(n)) return null;
  const halfDay = isHalfDayNumber(n);
  return {
    day: formatDay(n),
    dayNumber: n,
    halfDay,
    extendedOpen: nyLocalToUtc(n, 4 * 60),
    regularOpen: nyLocalToUtc(n, 9 * 60 + 30),
    regularClose: nyLocalToUtc(n, (halfDay ? 13 : 16) * 60),
    extendedClose: nyLocalToUtc(n, (halfDay ? 17 : 20) * 60),
  };
}

/** Sessions of the inclusive New York day range, in order. */
export function* tradingSessions(range: { from: string | number; to: string | number }): Generator<Session> {
  const last = toDayNumber(range.to);
  for (let n = toDayNumber(range.from); n <= last; n++) {
    const s = sessionBounds(n);
    if (s) yield s;
  }
}

/** First session whose extended close is after `utcMs` (may contain it). */
export function sessionAtOrAfter(utcMs: number): Session {
  for (let n = nyDayOf(utcMs); ; n++) {
    const s = sessionBounds(n);
    if (s && s.extendedClose > utcMs) return s;
  }
}

/** Last session whose extended open is at or before `utcMs` (may contain it). */
export function sessionAtOrBefore(utcMs: number): Session {
  for (let n = nyDayOf(utcMs); ; n--) {
    const s = sessionBounds(n);
    if (s && s.extendedOpen <= utcMs) return s;
  }
}

/** The New York day of a UTC instant, 'YYYY-MM-DD'. */
export function nyDay(utcMs: number): string {
  return formatDay(nyDayOf(utcMs));
}
