/**
 * Bars of any timeframe. Intraday buckets aggregate the ground-truth minute
 * bars inside the bucket's overlap with trading sessions; a bucket without a
 * traded minute has no bar (no zero-fill). Week and month buckets aggregate
 * the day-level bars of their sessions (see daily-bars.ts).
 */
import { sessionAtOrAfter, type Session, type Timeframe } from "../lib/market-calendar/index.ts";
import { round } from "./bar-rules.ts";
import { sessionDayBar } from "./daily-bars.ts";
import type { MinuteBarSource, RawBar } from "./minute-bars.ts";

const MINUTE = 60_000;

/** Remembers the last session looked up: consecutive buckets mostly share one. */
export class SessionCursor {
  private last: Session | undefined;

  /** First session whose extended close is after `t`. */
  atOrAfter(t: number): Session {
    const s = this.last;
    if (s && s.extendedClose > t && (s.extendedOpen <= t || this.prevCloseBefore(s, t))) return s;
    return (this.last = sessionAtOrAfter(t));
  }

  private prevCloseBefore(s: Session, t: number): boolean {
    // `s` is still the answer if no other session ends in (t, s.extendedOpen];
    // sessions are ≥ 8 hours apart, so being within that gap is enough.
    return s.extendedOpen - t < 8 * 3_600_000;
  }
}

/** Minute bars with trades in [start, end), in time order. */
function* tradedMinutes(src: MinuteBarSource, start: number, end: number, cursor: SessionCursor): Generator<RawBar> {
  let t = start;
  while (t < end) {
    const s = cursor.atOrAfter(t);
    if (s.extendedOpen >= end) return;
    const to = Math.min(end, s.extendedClose);
    for (let m = Math.max(t, s.extendedOpen); m < to; m += MINUTE) {
      const bar = src.bar(m, m >= s.regularOpen && m < s.regularClose);
      if (bar) yield bar;
    }
    t = s.extendedClose;
  }
}

/** Day-level bars of the sessions in [start, end), all stamped `start`. */
function* sessionBars(src: MinuteBarSource, start: number, end: number, cursor: SessionCursor): Generator<RawBar> {
  for (let s = cursor.atOrAfter(start); s.extendedOpen < end; s = cursor.atOrAfter(s.extendedClose)) {
    yield sessionDayBar(src, s, start);
  }
}

/** OHLC, volume and VWAP of consecutive bars, as one bar stamped `t`; null for none. */
function aggregate(t: number, bars: Iterable<RawBar>): RawBar | null {
  let first: RawBar | undefined;
  let last: RawBar | undefined;
  let h = -Infinity;
  let l = Infinity;
  let v = 0;
  let n = 0;
  let pv = 0;
  for (const b of bars) {
    first ??= b;
    last = b;
    if (b.h > h) h = b.h;
    if (b.l < l) l = b.l;
    v += b.v;
    n += b.n;
    pv += b.vw * b.v;
  }
  if (!first || !last) return null;
  return { t, o: first.o, h, l, c: last.c, v, n, vw: Math.min(h, Math.max(l, round(pv / v, 6))) };
}

/** The bar of bucket [start, end) or null when nothing traded in it. */
export function bucketBar(
  src: MinuteBarSource,
  tf: Timeframe,
  start: number,
  end: number,
  cursor: SessionCursor,
): RawBar | null {
  const s = cursor.atOrAfter(start);
  switch (tf.unit) {
    case "min":
    case "hour":
      if (tf.unit === "min" && tf.n === 1) {
        return start < s.extendedOpen ? null : src.bar(start, start >= s.regularOpen && start < s.regularClose);
      }
      return aggregate(start, tradedMinutes(src, start, end, cursor));
    case "day":
      return s.extendedOpen < end ? sessionDayBar(src, s, start) : null;
    case "week":
    case "month":
      return aggregate(start, sessionBars(src, start, end, cursor));
  }
}
