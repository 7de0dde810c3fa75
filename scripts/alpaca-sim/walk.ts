/**
 * The lazy row walk behind every response and the ground truth: rows ordered
 * by symbol ascending, then bar time (asc or desc), filtered inclusively on
 * bar start (start ≤ t ≤ end). Walking from a resume position costs only the
 * buckets actually visited, so memory is flat for any range.
 */
import {
  bucketCeil,
  bucketFloor,
  bucketNext,
  bucketPrev,
  nyMidnight,
  parseDay,
  sessionAtOrBefore,
  type Session,
  type Timeframe,
} from "../lib/market-calendar/index.ts";
import type { AdjustmentSet } from "./corporate-actions.ts";
import { bucketBar, SessionCursor } from "./bars.ts";

import { type DataFeed, MinuteBarSource, type RawBar } from "./minute-bars.ts";
import { profileOf, resolveEntity } from "./symbols.ts";

/** Earliest data per feed (New York midnight of the day). */
export const HISTORY_START: Record<DataFeed, number> = {
  sip: nyMidnight(parseDay("2016-01-01")!),
  iex: nyMidnight(parseDay("2022-01-01")!),
};

export interface WalkQuery {
  /** Sorted ascending, unique. */
  symbols: readonly string[];
  tf: Timeframe;
  /** Inclusive bounds on bar start, UTC ms. */
  startMs: number;
  endMs: number;
  /** null: a feed without data for these symbols (boats, otc). */
  feed: DataFeed | null;
  kinds: AdjustmentSet;
  /** 'YYYY-MM-DD' or '-' (no rename mapping). */
  asof: string;
  sort: "asc" | "desc";
  nowMs: number;
}

export interface Position {
  symbol: string;
  /** Resume inclusively from this bar start. */
  t: number;
}

export interface Row {
  symbol: string;
  bar: RawBar;
}

/** All rows from `from` (inclusive) onwards, in response order. */
export function* walkRows(q: WalkQuery, from?: Position): Generator<Row> {
  let i = from ? q.symbols.indexOf(from.symbol) : 0;
  if (i < 0) return;
  for (; i < q.symbols.length; i++) {
    const symbol = q.symbols[i]!;
    const resume = from && symbol === from.symbol ? from.t : undefined;
    for (const bar of walkSymbol(q, symbol, resume)) yield { symbol, bar };
  }
}

function* walkSymbol(q: WalkQuery, symbol: string, resume: number | undefined): Generator<RawBar> {
  if (!q.feed) return;
  const window = resolveEntity(symbol, q.asof);
  if (!window) return;
  const lastComplete = bucketPrev(q.tf, bucketFloor(q.tf, q.nowMs));
  let lo = Math.max(q.startMs, window.from, HISTORY_START[q.feed]);
  let hi = Math.min(q.endMs, window.to - 1, lastComplete);
  if (resume !== undefined) {
    if (q.sort === "asc") lo = Math.max(lo, resume);
    else hi = Math.min(hi, resume);
  }
  if (lo > hi) return;
  const src = new MinuteBarSource(profileOf(window.entity), q.feed, q.kinds);
  yield* q.sort === "asc" ? ascending(src, q.tf, lo, hi) : descending(src, q.tf, lo, hi);
}

function* ascending(src: MinuteBarSource, tf: Timeframe, lo: number, hi: number): Generator<RawBar> {
  const cursor = new SessionCursor();
  let b = bucketCeil(tf, lo);
  while (b <= hi) {
    const e = bucketNext(tf, b);
    const s = cursor.atOrAfter(b);
    if (s.extendedOpen >= e) {
      b = bucketFloor(tf, s.extendedOpen); // skip the closed market in one step
      continue;
    }
    const bar = bucketBar(src, tf, b, e, cursor);
    if (bar) yield bar;
    b = e;
  }
}

function* descending(src: MinuteBarSource, tf: Timeframe, lo: number, hi: number): Generator<RawBar> {
  const cursor = new SessionCursor();
  let before: Session | undefined;
  let b = bucketFloor(tf, hi);
  while (b >= lo) {
    const e = bucketNext(tf, b);
    // Last session opening before e; sessions are ≥ 8 h apart, so a cached one still holds
    // while e − 1 is before its close + 8 h.
    if (!before || before.extendedOpen > e - 1 || e - 1 >= before.extendedClose + 8 * 3_600_000) {
      before = sessionAtOrBefore(e - 1);
    }
    if (before.extendedClose <= b) {
      b = bucketFloor(tf, before.extendedClose - 1);
      continue;
    }
    const bar = bucketBar(src, tf, b, e, cursor);
    if (bar) yield bar;
    b = bucketPrev(tf, b);
  }
}
