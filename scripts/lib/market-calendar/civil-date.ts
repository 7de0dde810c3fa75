/**
 * Proleptic Gregorian calendar arithmetic on "day numbers" (days since
 * 1970-01-01) and the America/New_York UTC offset computed from the US DST
 * rules, so no date library or tz database is needed.
 */

export const MS_PER_MINUTE = 60_000;
export const MS_PER_HOUR = 3_600_000;
export const MS_PER_DAY = 86_400_000;

export interface CivilDate {
  y: number;
  m: number; // 1..12
  d: number; // 1..31
}

/** Days since 1970-01-01 for a civil date (H. Hinnant's days_from_civil). */
export function daysFromCivil(y: number, m: number, d: number): number {
  const yy = m <= 2 ? y - 1 : y;
  const era = Math.floor(yy / 400);
  const yoe = yy - era * 400;
  const doy = Math.floor((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5) + d - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

export function civilFromDays(n: number): CivilDate {
  const z = n + 719468;
  const era = Math.floor(z / 146097);
  const doe = z - era * 146097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const d = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const m = mp < 10 ? mp + 3 : mp - 9;
  return { y: era * 400 + yoe + (m <= 2 ? 1 : 0), m, d };
}

/** 0 = Sunday … 6 = Saturday. */
export function weekday(dayNumber: number): number {
  return (((dayNumber + 4) % 7) + 7) % 7;
}

export function daysInMonth(y: number, m: number): number {
  return daysFromCivil(m === 12 ? y + 1 : y, m === 12 ? 1 : m + 1, 1) - daysFromCivil(y, m, 1);
}

const pad2 = (n: number) => (n < 10 ? "0" : "") + n;

export function formatDay(dayNumber: number): string {
  const { y, m, d } = civilFromDays(dayNumber);
  return `${y}-${pad2(m)}-${pad2(d)}`;
}

/** 'YYYY-MM-DD' -> day number; undefined when not a real date. */
export function parseDay(s: string): number | undefined {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(s);
  if (!match) return undefined;
  const [y, m, d] = [Number(match[1]), Number(match[2]), Number(match[3])];
  if (m < 1 || m > 12 || d < 1 || d > daysInMonth(y, m)) return undefined;
  return daysFromCivil(y, m, d);
}

/** The n-th (1-based) given weekday of a month, as a day number. */
export function nthWeekday(y: number, m: number, wd: number, n: number): number {
  const first = daysFromCivil(y, m, 1);
  return first + ((wd - weekday(first) + 7) % 7) + (n - 1) * 7;
}

export function lastWeekday(y: number, m: number, wd: number): number {
  const last = daysFromCivil(y, m, daysInMonth(y, m));
  return last - ((weekday(last) - wd + 7) % 7);
}

/** US DST window as local day numbers: [start 02:00 local, end 02:00 local). */
function dstDays(y: number): { start: number; end: number } {
  if (y >= 2007) return { start: nthWeekday(y, 3, 0, 2), end: nthWeekday(y, 11, 0, 1) };
  return { start: nthWeekday(y, 4, 0, 1), end: lastWeekday(y, 10, 0) };
}

/** New York's offset from UTC in minutes (-240 EDT, -300 EST) at a UTC instant. */
export function nyOffsetMinutes(utcMs: number): number {
  const { y } = civilFromDays(Math.floor(utcMs / MS_PER_DAY));
  const { start, end } = dstDays(y);
  // 02:00 EST = 07:00Z starts DST; 02:00 EDT = 06:00Z ends it.
  const dstFrom = start * MS_PER_DAY + 7 * MS_PER_HOUR;
  const dstTo = end * MS_PER_DAY + 6 * MS_PER_HOUR;
  return utcMs >= dstFrom && utcMs < dstTo ? -240 : -300;
}

/** UTC instant of a New York wall-clock time (minutes after local midnight). */
export function nyLocalToUtc(dayNumber: number, minuteOfDay: number): number {
  const { y } = civilFromDays(dayNumber);
  const { start, end } = dstDays(y);
  const afterStart = dayNumber > start || (dayNumber === start && minuteOfDay >= 120);
  const beforeEnd = dayNumber < end || (dayNumber === end && minuteOfDay < 120);
  const offset = afterStart && beforeEnd ? -240 : -300;
  return dayNumber * MS_PER_DAY + (minuteOfDay - offset) * MS_PER_MINUTE;
}

/** The New York calendar day (day number) containing a UTC instant. */
export function nyDayOf(utcMs: number): number {
  return Math.floor((utcMs + nyOffsetMinutes(utcMs) * MS_PER_MINUTE) / MS_PER_DAY);
}

/** Midnight New York of a day, as UTC ms (04:00Z in EDT, 05:00Z in EST). */
export function nyMidnight(dayNumber: number): number {
  return nyLocalToUtc(dayNumber, 0);
}

/** Easter Sunday (Anonymous Gregorian algorithm), as a day number. */
export function easterSunday(y: number): number {
  const a = y % 19;
  const b = Math.floor(y / 100);
  const c = y % 100;
  const d = Math.floor(b / 4);
  const e = b % 4;
  const f = Math.floor((b + 8) / 25);
  const g = Math.floor((b - f + 1) / 3);
  const h = (19 * a + b - d - g + 15) % 30;
  const i = Math.floor(c / 4);
  const k = c % 4;
  const l = (32 + 2 * e + 2 * i - h - k) % 7;
  const m = Math.floor((a + 11 * h + 22 * l) / 451);
  const month = Math.floor((h + l - 7 * m + 114) / 31);
  const day = ((h + l - 7 * m + 114) % 31) + 1;
  return daysFromCivil(y, month, day);
}
