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
import { seededSequence } from "../../../scripts/alpaca-sim/random.ts";

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

/** One SDK page, as bars per symbol. */
interface SdkPage {
  bars: Array<[symbol: string, bars: marketData.StockBar[]]>;
  nextPageToken: string | null;
}

/** Requests pages, each with the previous page's next_page_token, until there is none. */
async function followPages(fetchPage: (pageToken: string | undefined) => Promise<SdkPage>): Promise<CollectedPages> {
  const out: CollectedPages = { bars: [], pages: [] };
  let pageToken: string | undefined;
  do {
    const page = await fetchPage(pageToken);
    const counts: Record<string, number> = {};
    for (const [symbol, list] of page.bars) {
      counts[symbol] = list.length;
      for (const b of list) out.bars.push(fromWire(symbol, b));
    }
    out.pages.push({ counts, token: page.nextPageToken });
    pageToken = page.nextPageToken ?? undefined;
  } while (pageToken);
  return out;
}

/** The request parameters both SDK endpoints are sent alike. */
function sdkParams(q: Omit<SdkQuery, "symbols">) {
  return {
    timeframe: q.timeframe,
    start: new Date(q.start),
    end: new Date(q.end),
    limit: q.limit,
    feed: q.feed,
    adjustment: q.adjustment,
    sort: q.sort,
  };
}

/** Follows next_page_token through the official SDK's multi endpoint. */
export function collectMulti(api: marketData.StockApi, q: SdkQuery): Promise<CollectedPages> {
  return followPages(async (pageToken) => {
    const res = await api.stockBars({ symbols: q.symbols.join(","), ...sdkParams(q), asof: q.asof, pageToken });
    return { bars: Object.entries(res.bars ?? {}), nextPageToken: res.nextPageToken };
  });
}

/** Follows next_page_token through the official SDK's single-symbol endpoint (q.asof is not sent). */
export function collectSingle(api: marketData.StockApi, symbol: string, q: Omit<SdkQuery, "symbols">): Promise<CollectedPages> {
  return followPages(async (pageToken) => {
    const res = await api.stockBarSingle({ symbol, ...sdkParams(q), pageToken });
    return { bars: [[res.symbol, res.bars]], nextPageToken: res.nextPageToken };
  });
}

/** Deterministic PRNG for test case generation (the simulator's mulberry32). */
export const testRandom = seededSequence;
