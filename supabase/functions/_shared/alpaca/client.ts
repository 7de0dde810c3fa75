/**
 * One page of historical bars through the official SDK (raw generated API,
 * so the SDK's retry and client-side rate limiter stay off: retries belong
 * to the job queue, the request budget to the caller's `acquire` hook).
 * The body is parsed here rather than by the SDK so broken JSON and
 * malformed bars are caught at this boundary and classified.
 */
import { marketData } from "@alpacahq/alpaca-trade-api";
import { PermanentError, RetryableError } from "../errors.ts";
import { toBarRow } from "./bar-row.ts";
import { classifyAlpacaError } from "./classify-error.ts";
import { ALPACA_DATA_HOST, type AlpacaClientConfig, DEFAULT_TIMEOUT_MS } from "./config.ts";
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

export function createAlpacaBarsClient(config: AlpacaClientConfig): AlpacaBarsClient {
  const timeoutMs = config.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const api = new marketData.StockApi(
    new marketData.Configuration({
      basePath: (config.baseUrl ?? ALPACA_DATA_HOST).replace(/\/+$/, ""),
      keyId: config.keyId,
      secret: config.secretKey,
      timeoutMs,
      fetchApi: config.fetch,
      // retry and rateLimit deliberately unset: both default to off on the raw Configuration.
    }),
  );
  const ctx = { timeoutMs, secrets: [config.secretKey, config.keyId] };

  return {
    async fetchPage(q, pageToken) {
      assertValidQuery(q);
      // Outside the try: a failure of the budget itself (its database) is not an Alpaca failure.
      await config.acquire?.();
      try {
        const common = {
          timeframe: q.timeframe,
          start: toInstant("start", q.start),
          end: toInstant("end", q.end),
          limit: q.limit ?? DEFAULT_PAGE_LIMIT,
          adjustment: q.adjustment,
          feed: q.feed as marketData.StockHistoricalFeed | undefined,
          pageToken: pageToken ?? undefined,
        };
        const response = q.endpoint === "multi"
          ? await api.stockBarsRaw({ ...common, symbols: q.symbols.join(",") })
          : await api.stockBarSingleRaw({ ...common, symbol: q.symbols[0]! });
        const body: unknown = JSON.parse(await response.raw.text());
        return { ...parseBody(body, q), pageToken };
      } catch (err) {
        throw classifyAlpacaError(err, ctx);
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
