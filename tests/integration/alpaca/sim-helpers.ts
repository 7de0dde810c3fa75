/** Shared set-up for the simulator/client tests: a sim, an SDK pointed at it, page collectors. */
import { marketData } from "@alpacahq/alpaca-trade-api";
import {
  type AlpacaSim,
  DEFAULT_SIM_KEY_ID,
  DEFAULT_SIM_SECRET,
  type SimOptions,
  startAlpacaSim,
} from "../../../scripts/alpaca-sim/index.ts";
import type { ExpectedBar } from "../../../scripts/alpaca-sim/ground-truth.ts";

/** A fixed data clock, so "now"-dependent defaults are reproducible. */
export const SIM_NOW = new Date("2025-06-30T22:00:00Z");

/** A sim with a generous budget (tests that exercise the rate limit set their own). */
export function startTestSim(opts: SimOptions = {}): Promise<AlpacaSim> {
  return startAlpacaSim({ rateLimitPerMin: 100_000, now: () => SIM_NOW, ...opts });
}

export function sdkFor(sim: AlpacaSim, overrides: Partial<marketData.ConfigurationParameters> = {}) {
  return new marketData.StockApi(
    new marketData.Configuration({
      basePath: sim.url,
      keyId: DEFAULT_SIM_KEY_ID,
      secret: DEFAULT_SIM_SECRET,
      ...overrides,
    }),
  );
}

export interface SdkQuery {
  symbols: string[];
  timeframe: string;
  start: string;
  end: string;
  limit?: number;
  feed?: "sip" | "iex";
  adjustment?: string;
  asof?: string;
  sort?: "asc" | "desc";
}

/** Raw multi-endpoint SDK bar -> ExpectedBar (the SDK keeps multi `t` as the wire string). */
function fromWire(symbol: string, b: marketData.StockBar): ExpectedBar {
  const t = (b.t as unknown) instanceof Date ? (b.t as Date).toISOString().slice(0, 19) + "Z" : String(b.t);
  return { symbol, t, o: b.o, h: b.h, l: b.l, c: b.c, v: b.v, n: b.n, vw: b.vw };
}

export interface CollectedPages {
  bars: ExpectedBar[];
  pages: Array<{ counts: Record<string, number>; token: string | null }>;
}

/** Follows next_page_token through the official SDK's multi endpoint. */
export async function collectMulti(api: marketData.StockApi, q: SdkQuery): Promise<CollectedPages> {
  const out: CollectedPages = { bars: [], pages: [] };
  let pageToken: string | undefined;
  do {
    const res = await api.stockBars({
      symbols: q.symbols.join(","),
      timeframe: q.timeframe,
      start: new Date(q.start),
      end: new Date(q.end),
      limit: q.limit,
      feed: q.feed,
      adjustment: q.adjustment,
      asof: q.asof,
      sort: q.sort,
      pageToken,
    });
    const counts: Record<string, number> = {};
    for (const [symbol, list] of Object.entries(res.bars ?? {})) {
      counts[symbol] = list.length;
      for (const b of list) out.bars.push(fromWire(symbol, b));
    }
    out.pages.push({ counts, token: res.nextPageToken });
    pageToken = res.nextPageToken ?? undefined;
  } while (pageToken);
  return out;
}

/** Follows next_page_token through the official SDK's single-symbol endpoint. */
export async function collectSingle(api: marketData.StockApi, symbol: string, q: Omit<SdkQuery, "symbols">) {
  const out: CollectedPages = { bars: [], pages: [] };
  let pageToken: string | undefined;
  do {
    const res = await api.stockBarSingle({
      symbol,
      timeframe: q.timeframe,
      start: new Date(q.start),
      end: new Date(q.end),
      limit: q.limit,
      feed: q.feed,
      adjustment: q.adjustment,
      sort: q.sort,
      pageToken,
    });
    for (const b of res.bars) out.bars.push(fromWire(res.symbol, b));
    out.pages.push({ counts: { [res.symbol]: res.bars.length }, token: res.nextPageToken });
    pageToken = res.nextPageToken ?? undefined;
  } while (pageToken);
  return out;
}

/** Deterministic PRNG for test case generation. */
export function testRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
