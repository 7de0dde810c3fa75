/**
 * How the simulator cuts pages, as Alpaca may: short pages and tokens with
 * nothing behind them are ordinary answers, not faults.
 *
 * - `limit`: "The maximum number of data points to return in the response
 *   page. The API may return less, even if there are more available data
 *   points in the requested interval. Always check the `next_page_token` for
 *   more pages." (alpacahq/alpaca-trade-api-js tooling/specs/market-data-api.json,
 *   components.parameters.limit)
 * - Recorded tokens that name the page's own last bar, so a page ending on
 *   the last row still carries one and the next page is empty:
 *   alpaca-py tests/data/test_historical_stock_data.py `test_get_bars`
 *   (token `AAPL|D|2022-02-02T05:00:00.000000000Z`, the second and last bar
 *   served) and alpaca-trade-api-go marketdata/rest_test.go `TestGetBars_Asof`
 *   (`META|D|2022-06-09T04:00:00…`, the page's last bar).
 *
 * Which pages are cut is decided by a hash of the request (path and every
 * query parameter, page_token included), so the same request always gets the
 * same page and the rows across all pages are exactly the ground truth.
 */
import { hashString, unit } from "./random.ts";
import { encodePageToken } from "./tokens.ts";
import type { WalkQuery } from "./walk.ts";

export interface PageVariation {
  /** Share of pages (of a limit ≥ MIN_LIMIT_TO_CUT) cut short: between half the limit and limit − 1 rows. */
  shortPages: number;
  /** Share of last pages that still carry a token, whose page is empty. */
  emptyTails: number;
}

/** On by default: a client must never treat a short page as the last one, nor a token as a promise of rows. */
export const DEFAULT_PAGE_VARIATION: PageVariation = { shortPages: 0.05, emptyTails: 0.1 };
export const EXACT_PAGES: PageVariation = { shortPages: 0, emptyTails: 0 };

export interface PageShape {
  /** Rows this page may hold (≤ limit). */
  rows: number;
  /** When the rows run out on this page, hand out a token anyway. */
  emptyTail: boolean;
}

const SALT = { short: 1, cut: 2, tail: 3 } as const;

/** Small pages are never cut: the recorded responses with limit 2 and 3 (PY test_get_bars, test_get_bars_desc; GO TestGetBars_Asof) came back full. */
export const MIN_LIMIT_TO_CUT = 100;

/** The request's identity for the draws: path plus sorted query parameters. */
export function requestKey(url: URL): string {
  const params = [...url.searchParams.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `${url.pathname}?${params.map(([k, v]) => `${k}=${v}`).join("&")}`;
}

export function pageShape(v: PageVariation, key: string, limit: number): PageShape {
  const h = hashString(key);
  let rows = limit;
  if (limit >= MIN_LIMIT_TO_CUT && unit(h, SALT.short, 0) < v.shortPages) {
    const min = Math.ceil(limit / 2);
    rows = Math.min(limit - 1, min + Math.floor(unit(h, SALT.cut, 0) * (limit - min)));
  }
  return { rows, emptyTail: unit(h, SALT.tail, 0) < v.emptyTails };
}

/** A valid token for this query whose page is empty: past the last symbol's range. */
export function tokenPastTheEnd(q: WalkQuery): string {
  return encodePageToken(q.symbols[q.symbols.length - 1]!, q.tf.letter, q.sort === "asc" ? q.endMs + 1 : q.startMs - 1);
}
