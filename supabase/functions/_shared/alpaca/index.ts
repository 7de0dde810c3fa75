/** Alpaca market-data client: typed bar pages over the official SDK. */
export { MalformedBarError, toBarRow } from "./bar-row.ts";
export type { AlpacaBarsClient, BarPage, BarRow, BarsQuery } from "./types.ts";
export { classifyAlpacaError, MAX_RATE_LIMIT_WAIT_MS, MIN_RATE_LIMIT_WAIT_MS } from "./classify-error.ts";
export { assertValidQuery, createAlpacaBarsClient, DEFAULT_PAGE_LIMIT } from "./client.ts";
export {
  ALPACA_DATA_HOST,
  type AlpacaClientConfig,
  DEFAULT_TIMEOUT_MS,
  MAX_BASKET_SYMBOLS,
  MAX_REQUEST_TARGET_BYTES,
  MAX_TICKER_LENGTH,
} from "./config.ts";
export { iterateBarPages } from "./pages.ts";
