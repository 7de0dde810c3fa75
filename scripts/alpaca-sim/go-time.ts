/**
 * Alpaca's API server is written in Go; its date errors are Go's
 * `time.Parse` errors. This reproduces them for the `2006-01-02` layout and
 * parses RFC-3339 (any offset, up to nanoseconds) and date-only values.
 */
import { daysFromCivil, daysInMonth, MS_PER_MINUTE } from "../lib/market-calendar/index.ts";

const quote = (s: string) => JSON.stringify(s);

/** Go's error for `time.Parse("2006-01-02", value)`, or undefined when it parses. */
export function goDateLayoutError(value: string): string | undefined {
  const cannot = (rest: string, elem: string) =>
    `parsing time ${quote(value)} as "2006-01-02": cannot parse ${quote(rest)} as ${quote(elem)}`;
  const outOfRange = (what: string) => `parsing time ${quote(value)}: ${what} out of range`;
  const digits = (s: string, n: number) => s.length >= n && /^\d+$/.test(s.slice(0, n));
  let rest = value;
  if (!digits(rest, 4)) return cannot(rest, "2006");
  const y = Number(rest.slice(0, 4));
  rest = rest.slice(4);
  if (!rest.startsWith("-")) return cannot(rest, "-");
  rest = rest.slice(1);
  if (!digits(rest, 2)) return cannot(rest, "01");
  const m = Number(rest.slice(0, 2));
  if (m < 1 || m > 12) return outOfRange("month");
  rest = rest.slice(2);
  if (!rest.startsWith("-")) return cannot(rest, "-");
  rest = rest.slice(1);
  if (!digits(rest, 2)) return cannot(rest, "02");
  const d = Number(rest.slice(0, 2));
  rest = rest.slice(2);
  if (d < 1 || d > 31) return outOfRange("day");
  if (rest !== "") return `parsing time ${quote(value)}: extra text: ${quote(rest)}`;
  if (d > daysInMonth(y, m)) return outOfRange("day");
  return undefined;
}

/** UTC ms of an RFC-3339 timestamp (sub-ms digits reported separately), or undefined. */
export function parseRfc3339(value: string): { ms: number; subMs: boolean } | undefined {
  const match = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:\d{2})$/.exec(value);
  if (!match) return undefined;
  const [y, mo, d, h, mi, s] = match.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  if (mo < 1 || mo > 12 || d < 1 || d > daysInMonth(y, mo) || h > 23 || mi > 59 || s > 59) return undefined;
  const frac = (match[7] ?? "").padEnd(9, "0");
  const zone = match[8]!;
  let offsetMin = 0;
  if (zone !== "Z") {
    const sign = zone[0] === "-" ? -1 : 1;
    const [oh, om] = [Number(zone.slice(1, 3)), Number(zone.slice(4, 6))];
    if (oh > 23 || om > 59) return undefined;
    offsetMin = sign * (oh * 60 + om);
  }
  const ms = (daysFromCivil(y, mo, d) * 1440 + h * 60 + mi - offsetMin) * MS_PER_MINUTE + s * 1000 +
    Number(frac.slice(0, 3));
  return { ms, subMs: Number(frac.slice(3)) > 0 };
}
