/**
 * Ground truth: exactly the rows the simulator returns for a request, across
 * all pages, computed in-process and lazily (same validation, defaults and
 * walk as the server, without the limit).
 */
import type { BarsQuery } from "../../supabase/functions/_shared/alpaca/types.ts";
import type { RawBar } from "./minute-bars.ts";
import { isParamError, parseBarsRequest, type Plan } from "./params.ts";
import { isoSeconds } from "./page.ts";
import { walkRows } from "./walk.ts";

/**
 * The request parameters the product's client sends (so a BarsQuery can be
 * passed as it is; its paging fields do not matter, the ground truth spans all
 * pages), plus the ones only tests send. Everything is validated exactly as
 * the server does: feed may be sip, iex, boats or otc, and start and end may
 * also be 'YYYY-MM-DD' (a New York day), as the API allows.
 */
export interface GroundTruthQuery extends Pick<BarsQuery, "symbols" | "timeframe" | "start" | "end" | "feed" | "adjustment"> {
  asof?: string;
  sort?: "asc" | "desc";
  /** The plan of the key (default basic, like the simulator's default key). */
  plan?: Plan;
  /** The simulator's data clock (default: now). */
  now?: Date;
}

/** A row as the API returns it: the generator's bar with its symbol, stamped in wire form. */
export interface ExpectedBar extends Omit<RawBar, "t"> {
  symbol: string;
  /** 'YYYY-MM-DDTHH:MM:SSZ' */
  t: string;
}

function toParams(q: GroundTruthQuery): URLSearchParams {
  const p = new URLSearchParams({ symbols: q.symbols.join(","), timeframe: q.timeframe, start: q.start, end: q.end });
  if (q.feed) p.set("feed", q.feed);
  if (q.adjustment) p.set("adjustment", q.adjustment);
  if (q.asof) p.set("asof", q.asof);
  if (q.sort) p.set("sort", q.sort);
  return p;
}

function rows(q: GroundTruthQuery) {
  const parsed = parseBarsRequest(toParams(q), undefined, q.plan ?? "basic", (q.now ?? new Date()).getTime());
  if (isParamError(parsed)) throw new Error(`the simulator would answer ${parsed.status}: ${parsed.message}`);
  return walkRows(parsed.walk);
}

/** Rows in response order (symbol ascending, then time). Throws on a request the server would reject. */
export function* expectedBars(q: GroundTruthQuery): Generator<ExpectedBar> {
  for (const { symbol, bar } of rows(q)) {
    yield { symbol, t: isoSeconds(bar.t), o: bar.o, h: bar.h, l: bar.l, c: bar.c, v: bar.v, n: bar.n, vw: bar.vw };
  }
}

export function countBars(q: GroundTruthQuery): number {
  let n = 0;
  for (const _ of rows(q)) n++;
  return n;
}

/** Bar counts per symbol (symbols without bars are absent). */
export function countBarsBySymbol(q: GroundTruthQuery): Map<string, number> {
  const counts = new Map<string, number>();
  for (const { symbol } of rows(q)) counts.set(symbol, (counts.get(symbol) ?? 0) + 1);
  return counts;
}
