/**
 * The rule calendar in the shape of Alpaca's `GET /v2/calendar` (the Trading
 * API's legacy calendar, `LegacyCalendarDay` in the SDK): `date` YYYY-MM-DD,
 * `open`/`close` the regular session as New York "HH:MM", `session_open`/
 * `session_close` the extended session as "HHMM", `settlement_date`.
 * Recorded responses show exactly these strings: `{"close":"16:00",
 * "date":"2026-07-29","open":"09:30","session_close":"2000","session_open":
 * "0400","settlement_date":"2026-07-30"}`, and "13:00"/"1700" on half days.
 * The simulator serves these rows; the jobs CLI falls back to them.
 */
import { formatDay, parseDay } from "./civil-date.ts";
import { isTradingDay, sessionBounds } from "./calendar.ts";

export interface AlpacaCalendarDay {
  close: string;
  date: string;
  open: string;
  session_close: string;
  session_open: string;
  settlement_date: string;
}

/** US equities settle T+1 for trades from 2024-05-28 (SEC rule 15c6-1 amendment), T+2 before. */
const T_PLUS_ONE_FROM = parseDay("2024-05-28")!;

function settlementDay(dayNumber: number): number {
  let left = dayNumber >= T_PLUS_ONE_FROM ? 1 : 2;
  let n = dayNumber;
  while (left > 0) {
    n++;
    if (isTradingDay(n)) left--;
  }
  return n;
}

const hhmm = (half: boolean, full: string, short: string) => (half ? short : full);

/** One calendar row per trading day in the inclusive day-number range. */
export function alpacaCalendarDays(firstDay: number, lastDay: number): AlpacaCalendarDay[] {
  const rows: AlpacaCalendarDay[] = [];
  for (let n = firstDay; n <= lastDay; n++) {
    const s = sessionBounds(n);
    if (!s) continue;
    rows.push({
      close: hhmm(s.halfDay, "16:00", "13:00"),
      date: formatDay(n),
      open: "09:30",
      session_close: hhmm(s.halfDay, "2000", "1700"),
      session_open: "0400",
      settlement_date: formatDay(settlementDay(n)),
    });
  }
  return rows;
}
