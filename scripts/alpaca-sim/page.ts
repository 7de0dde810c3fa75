/**
 * One response page: up to `limit` rows in total across symbols (fewer when
 * the page's shape cuts it short, see paging.ts), then a peek at the next row
 * to decide the token (present iff more rows remain, or an empty tail). JSON is
 * written by hand in Alpaca's key order (c,h,l,n,o,t,v,vw; envelope keys
 * alphabetical) to keep large pages cheap.
 */
import type { RawBar } from "./minute-bars.ts";
import type { ParsedRequest } from "./params.ts";
import { type PageShape, tokenPastTheEnd } from "./paging.ts";
import { encodePageToken } from "./tokens.ts";
import { walkRows } from "./walk.ts";

export interface PageResult {
  bars: number;
  nextPageToken: string | null;
}

/** Receives the body in pieces (a few hundred bars each), so no page is held whole. */
export type Sink = (chunk: string) => void;

const PIECES_PER_CHUNK = 512;

const pad2 = (n: number) => (n < 10 ? "0" : "") + n;
let cachedDay = NaN;
let cachedPrefix = "";

/** 'YYYY-MM-DDTHH:MM:SSZ' (the day prefix is cached: rows come in time order). */
export function isoSeconds(ms: number): string {
  const day = Math.floor(ms / 86_400_000);
  if (day !== cachedDay) {
    cachedDay = day;
    cachedPrefix = new Date(day * 86_400_000).toISOString().slice(0, 11);
  }
  const sec = Math.floor((ms - day * 86_400_000) / 1000);
  return `${cachedPrefix}${pad2(Math.floor(sec / 3600))}:${pad2(Math.floor(sec / 60) % 60)}:${pad2(sec % 60)}Z`;
}

/**
 * A positive number already rounded to `dp` decimals, printed through integer
 * arithmetic (several times faster than Number#toString for doubles). The text
 * parses back to the identical double.
 */
function fixed(x: number, scale: number, dp: number): string {
  const k = Math.round(x * scale);
  const int = Math.floor(k / scale);
  let frac = k - int * scale;
  if (frac === 0) return String(int);
  let digits = dp;
  while (frac % 10 === 0) {
    frac /= 10;
    digits--;
  }
  return `${int}.${String(frac).padStart(digits, "0")}`;
}
const px = (x: number) => fixed(x, 10_000, 4);

export function barJson(b: RawBar): string {
  return `{"c":${px(b.c)},"h":${px(b.h)},"l":${px(b.l)},"n":${b.n},"o":${px(b.o)},"t":"${isoSeconds(b.t)}","v":${b.v},"vw":${fixed(b.vw, 1_000_000, 6)}}`;
}

/**
 * Writes one page to `sink`. `shape` (default: exactly `limit` rows, no empty
 * tail) may cut it short; `overrideToken` replaces the computed next token
 * (fault injection); it also sees how many bars the page holds.
 */
export function renderPage(
  req: ParsedRequest,
  endpoint: "multi" | "single",
  sink: Sink,
  overrideToken?: (next: string | null, bars: number) => string | null,
  shape: PageShape = { rows: req.limit, emptyTail: false },
): PageResult {
  let pieces: string[] = [];
  const emit = (piece: string) => {
    pieces.push(piece);
    if (pieces.length >= PIECES_PER_CHUNK) {
      sink(pieces.join(""));
      pieces = [];
    }
  };
  let current: string | undefined;
  let count = 0;
  let next: string | null = null;
  emit(endpoint === "multi" ? '{"bars":{' : '{"bars":');
  for (const row of walkRows(req.walk, req.pageToken)) {
    if (count === shape.rows) {
      next = encodePageToken(row.symbol, req.walk.tf.letter, row.bar.t);
      break;
    }
    if (row.symbol !== current) {
      if (endpoint === "multi") emit(`${current === undefined ? "" : "],"}${JSON.stringify(row.symbol)}:[`);
      else emit("[");
      current = row.symbol;
    } else emit(",");
    emit(barJson(row.bar));
    count++;
  }
  if (next === null && count > 0 && shape.emptyTail) next = tokenPastTheEnd(req.walk);
  if (overrideToken) next = overrideToken(next, count);
  const currency = req.currency ? `,"currency":${JSON.stringify(req.currency)}` : "";
  const token = `"next_page_token":${next === null ? "null" : JSON.stringify(next)}`;
  if (endpoint === "multi") emit(`${count > 0 ? "]" : ""}}${currency},${token}}`);
  else emit(`${count > 0 ? "]" : "null"}${currency},${token},"symbol":${JSON.stringify(req.walk.symbols[0])}}`);
  sink(pieces.join(""));
  return { bars: count, nextPageToken: next };
}
