/**
 * Alpaca's bucket alignment, as the simulator serves it. Day, week and month
 * buckets are the market calendar's (New York midnight). Minute and hour
 * buckets are consecutive N-unit steps on the UTC time line, counted from the
 * Unix epoch, and never restart at an hour or day boundary:
 *
 * - 45Min bars of AAPL on 2021-06-08 are stamped 07:30Z, 08:15Z, 09:00Z, …,
 *   12:45Z, 13:30Z (alpacahq/alpaca-trade-api-python README.md, the
 *   `TimeFrame(45, TimeFrameUnit.Minute)` sample): 45 minutes apart across
 *   hour boundaries, at multiples of 45 minutes past UTC midnight.
 * - "4H bars are simply 4 hour bars grouped together, always starting at
 *   4 * n hour (00:00, 04:00, 08:00, etc.)" (Alpaca staff,
 *   https://forum.alpaca.markets/t/candles-do-not-fully-respect-start-and-end-parameters-in-historical-bars-endpoint/14632).
 *
 * For N dividing a day both samples fix the grid. For N that does not
 * (7Min, 5Hour, …) no published response shows which origin Alpaca counts
 * from; the epoch is the origin consistent with both samples (continuous
 * steps, multiples of N on the UTC line), so that is the choice here.
 */
import {
  bucketFloor as calendarFloor,
  bucketNext as calendarNext,
  MS_PER_HOUR,
  MS_PER_MINUTE,
  type Timeframe,
} from "../lib/market-calendar/index.ts";

/** Length of one intraday bucket in ms, or undefined for calendar buckets. */
function stepMs(tf: Timeframe): number | undefined {
  if (tf.unit === "min") return tf.n * MS_PER_MINUTE;
  if (tf.unit === "hour") return tf.n * MS_PER_HOUR;
  return undefined;
}

/** Start of the bucket containing `ms`. */
export function bucketFloor(tf: Timeframe, ms: number): number {
  const step = stepMs(tf);
  return step === undefined ? calendarFloor(tf, ms) : Math.floor(ms / step) * step;
}

/** Start of the bucket after the one starting at `start` (= its exclusive end). */
export function bucketNext(tf: Timeframe, start: number): number {
  const step = stepMs(tf);
  return step === undefined ? calendarNext(tf, start) : start + step;
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
