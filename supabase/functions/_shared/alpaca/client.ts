/**
 * One page of historical bars through the official SDK (raw generated API,
 * so the SDK's retry and client-side rate limiter stay off: retries belong
 * to the job queue, the request budget to the caller's `acquire` hook).
 * The body is parsed here rather than by the SDK so broken JSON and
 * malformed bars are caught at this boundary and classified.
 *
 * Compression: the runtime's fetch asks for gzip itself (Deno and the Edge
 * Runtime send `Accept-Encoding: gzip,br`, Node `gzip, deflate`) and inflates
 * the body before `text()`, so pages travel compressed as Alpaca serves them.
 *
 * URL length: a request whose target would exceed MAX_REQUEST_TARGET_BYTES is
 * refused before any I/O (PermanentError): Alpaca's nginx would answer 414,
 * and no retry can shorten it. Baskets within MAX_BASKET_SYMBOLS ×
 * MAX_TICKER_LENGTH never get there.
 */
import { errors, marketData } from "@alpacahq/alpaca-trade-api";
import { PermanentError, RateLimitedError, RetryableError } from "../errors.ts";
import { toBarRow } from "./bar-row.ts";
import { classifyAlpacaError } from "./classify-error.ts";
import {
  ALPACA_DATA_HOST,
  type AlpacaClientConfig,
  DEFAULT_TIMEOUT_MS,
  MAX_BASKET_SYMBOLS,
  MAX_REQUEST_TARGET_BYTES,
} from "./config.ts";
import type { AlpacaBarsClient, BarPage, BarRow, BarsQuery } from "./types.ts";

export type { AlpacaBarsClient, BarPage, BarsQuery };

export const DEFAULT_PAGE_LIMIT = 10_000;

function toInstant(name: string, value: string): Date {
  const d = new Date(value);
  if (!/T/.test(value) || Number.isNaN(d.getTime())) {
    throw new PermanentError(`${name} must be an ISO-8601 instant with a time part, got ${JSON.stringify(value)}`);
  }
  return d;
}

/** Checks a query before any I/O; a bad query is a permanent failure. */
export function assertValidQuery(q: BarsQuery): void {
  if (q.symbols.length === 0) throw new PermanentError("bars query needs at least one symbol");
  if (q.endpoint === "single" && q.symbols.length !== 1) {
    throw new PermanentError(`the single-symbol endpoint takes exactly one symbol, got ${q.symbols.length}`);
  }
  toInstant("start", q.start);
  toInstant("end", q.end);
}

/** Bytes of the request target (path + query) of `url`. */
export function requestTargetBytes(url: string): number {
  const u = new URL(url);
  return new TextEncoder().encode(u.pathname + u.search).length;
}

/** What a probe API's fetch throws instead of sending: the URL the SDK built. */
class UrlProbe extends Error {
  constructor(readonly url: string) {
    super("URL probe (never sent)");
  }
}

function stockApi(config: AlpacaClientConfig, timeoutMs: number, fetchApi: typeof fetch | undefined) {
  return new marketData.StockApi(
    new marketData.Configuration({
      basePath: (config.baseUrl ?? ALPACA_DATA_HOST).replace(/\/+$/, ""),
      keyId: config.keyId,
      secret: config.secretKey,
      timeoutMs,
      fetchApi,
      // retry and rateLimit deliberately unset: both default to off on the raw Configuration.
    }),
  );
}

/** The one SDK call behind a page, for the real API and the URL probe alike. */
function requestPage(api: marketData.StockApi, q: BarsQuery, pageToken: string | null) {
  const common = {
    timeframe: q.timeframe,
    start: toInstant("start", q.start),
    end: toInstant("end", q.end),
    limit: q.limit ?? DEFAULT_PAGE_LIMIT,
    adjustment: q.adjustment,
    feed: q.feed as marketData.StockHistoricalFeed | undefined,
    pageToken: pageToken ?? undefined,
  };
  return q.endpoint === "multi"
    ? api.stockBarsRaw({ ...common, symbols: q.symbols.join(",") })
    : api.stockBarSingleRaw({ ...common, symbol: q.symbols[0]! });
}

export function createAlpacaBarsClient(config: AlpacaClientConfig): AlpacaBarsClient {
  const timeoutMs = config.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const api = stockApi(config, timeoutMs, config.fetch);
  const probe = stockApi(config, timeoutMs, (url) => Promise.reject(new UrlProbe(String(url))));
  const ctx = { timeoutMs, secrets: [config.secretKey, config.keyId] };

  /** The exact URL the SDK will request, built by the SDK itself without sending anything. */
  async function urlOf(q: BarsQuery, pageToken: string | null): Promise<string> {
    try {
      await requestPage(probe, q, pageToken);
    } catch (err) {
      const cause = err instanceof errors.FetchError ? err.cause : err;
      if (cause instanceof UrlProbe) return cause.url;
      throw err;
    }
    throw new Error("the URL probe sent a request");
  }

  /** Refuses, before any I/O, a request Alpaca's nginx would answer with 414. */
  async function assertUrlFits(q: BarsQuery, pageToken: string | null): Promise<void> {
    const bytes = requestTargetBytes(await urlOf(q, pageToken));
    if (bytes > MAX_REQUEST_TARGET_BYTES) {
      throw new PermanentError(
        `the Alpaca request URL would be ${bytes} bytes, over the ${MAX_REQUEST_TARGET_BYTES}-byte limit ` +
          `(${q.symbols.length} symbols); a basket may hold at most ${MAX_BASKET_SYMBOLS} tickers`,
      );
    }
  }

  return {
    async fetchPage(q, pageToken) {
      assertValidQuery(q);
      try {
        await assertUrlFits(q, pageToken);
      } catch (err) {
        throw classifyAlpacaError(err, ctx);
      }
      // Outside the try: a failure of the budget itself (its database) is not an Alpaca failure.
      await config.acquire?.();
      try {
        const response = await requestPage(api, q, pageToken);
        const body: unknown = JSON.parse(await response.raw.text());
        return { ...parseBody(body, q), pageToken };
      } catch (err) {
        const classified = classifyAlpacaError(err, ctx);
        if (classified instanceof RateLimitedError) await config.onRateLimited?.();
        throw classified;
      }
    },
  };
}

function parseBody(body: unknown, q: BarsQuery): Omit<BarPage, "pageToken"> {
  if (typeof body !== "object" || body === null) throw new RetryableError("Alpaca response is not a JSON object");
  const { bars, next_page_token: next } = body as { bars?: unknown; next_page_token?: unknown };
  if (next !== null && typeof next !== "string") throw new RetryableError("Alpaca response lacks next_page_token");
  const rows: BarRow[] = [];
  if (q.endpoint === "single") {
    if (bars !== null && !Array.isArray(bars)) throw new RetryableError("Alpaca single-symbol bars is not an array");
    for (const raw of bars ?? []) rows.push(toBarRow(q.symbols[0]!, q.timeframe, raw));
  } else {
    if (bars !== null && (typeof bars !== "object" || Array.isArray(bars))) {
      throw new RetryableError("Alpaca multi-symbol bars is not an object");
    }
    const requested = new Set(q.symbols);
    for (const [symbol, list] of Object.entries((bars ?? {}) as Record<string, unknown>)) {
      if (!requested.has(symbol)) throw new PermanentError(`Alpaca returned bars for unrequested symbol ${symbol}`);
      if (!Array.isArray(list)) throw new RetryableError(`Alpaca bars for ${symbol} is not an array`);
      for (const raw of list) rows.push(toBarRow(symbol, q.timeframe, raw));
    }
  }
  return { bars: rows, nextPageToken: next === "" ? null : next };
}
