/**
 * Alpaca's timeframe grammar and the bucket arithmetic behind each unit.
 * Minute/hour buckets are steps of N units from the Unix epoch, as Alpaca
 * serves them (never restarted at an hour or a day); day/week/month buckets
 * start at New York midnight (week: Monday; N-Month: months 1, 1+N, …).
 */
import {
  civilFromDays,
  daysFromCivil,
  MS_PER_HOUR,
  MS_PER_MINUTE,
  nyDayOf,
  nyMidnight,
  weekday,
} from "./civil-date.ts";

export type TimeUnit = "min" | "hour" | "day" | "week" | "month";

export interface Timeframe {
  /** As the client wrote it, e.g. '5Min' or '5T'. */
  text: string;
  n: number;
  unit: TimeUnit;
  /** Letter used inside page tokens. */
  letter: string;
}

const UNIT_BY_SUFFIX: Record<string, TimeUnit> = {
  Min: "min",
  T: "min",
  Hour: "hour",
  H: "hour",
  Day: "day",
  D: "day",
  Week: "week",
  W: "week",
  Month: "month",
  M: "month",
};

const LETTER: Record<TimeUnit, string> = { min: "M", hour: "H", day: "D", week: "W", month: "O" };

function allowed(unit: TimeUnit, n: number): boolean {
  switch (unit) {
    case "min":
      return n >= 1 && n <= 59;
    case "hour":
      return n >= 1 && n <= 23;
    case "day":
    case "week":
      return n === 1;
    case "month":
      return [1, 2, 3, 4, 6, 12].includes(n);
  }
}

/** Parses `[1-59]Min|T`, `[1-23]Hour|H`, `1Day|D`, `1Week|W`, `{1,2,3,4,6,12}Month|M`. */
export function parseTimeframe(text: string): Timeframe | undefined {
  const match = /^(\d{1,3})(Min|T|Hour|H|Day|D|Week|W|Month|M)$/.exec(text);
  if (!match) return undefined;
  const n = Number(match[1]);
  const unit = UNIT_BY_SUFFIX[match[2]!]!;
  if (!allowed(unit, n)) return undefined;
  return { text, n, unit, letter: LETTER[unit] };
}

function monthStart(dayNumber: number, n: number): { y: number; m: number } {
  const { y, m } = civilFromDays(dayNumber);
  return { y, m: Math.floor((m - 1) / n) * n + 1 };
}

function intradayStep(tf: Timeframe): number {
  return tf.n * (tf.unit === "min" ? MS_PER_MINUTE : MS_PER_HOUR);
}

/** Start of the bucket containing `ms`. */
export function bucketFloor(tf: Timeframe, ms: number): number {
  switch (tf.unit) {
    // Intraday buckets are consecutive N-unit steps counted from the Unix
    // epoch, never restarted at an hour or a day, as Alpaca's samples show:
    // 45Min bars at 07:30Z, 08:15Z, 09:00Z (the older Python SDK's README),
    // 4Hour bars at 00:00, 04:00, 08:00 (Alpaca staff on their forum). For N
    // that divides neither, the epoch is the origin consistent with both.
    case "min":
    case "hour": {
      const step = intradayStep(tf);
      return Math.floor(ms / step) * step;
    }
    case "day":
      return nyMidnight(nyDayOf(ms));
    case "week": {
      const day = nyDayOf(ms);
      return nyMidnight(day - ((weekday(day) + 6) % 7));
    }
    case "month": {
      const { y, m } = monthStart(nyDayOf(ms), tf.n);
      return nyMidnight(daysFromCivil(y, m, 1));
    }
  }
}

/** Start of the bucket after the one starting at `start` (= its exclusive end). */
export function bucketNext(tf: Timeframe, start: number): number {
  switch (tf.unit) {
    case "min":
    case "hour":
      return start + intradayStep(tf);
    case "day":
      return nyMidnight(nyDayOf(start) + 1);
    case "week":
      return nyMidnight(nyDayOf(start) + 7);
    case "month": {
      const { y, m } = civilFromDays(nyDayOf(start));
      const next = m + tf.n;
      return nyMidnight(next > 12 ? daysFromCivil(y + 1, next - 12, 1) : daysFromCivil(y, next, 1));
    }
  }
}

/** First bucket start at or after `ms`. */
export function bucketCeil(tf: Timeframe, ms: number): number {
  const floor = bucketFloor(tf, ms);
  return floor === ms ? ms : bucketNext(tf, floor);
}

/** Start of the bucket before the one starting at `start`. */
export function bucketPrev(tf: Timeframe, start: number): number {
  return bucketFloor(tf, start - 1);
}
