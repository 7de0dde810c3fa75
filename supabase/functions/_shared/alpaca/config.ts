/** Configuration of the Alpaca market-data client (runtime-agnostic: the caller passes the values in). */

/** Alpaca's market-data host; npm start and the benchmarks import it too, so it is written once. */
export const ALPACA_DATA_HOST = "https://data.alpaca.markets";
export const DEFAULT_TIMEOUT_MS = 30_000;

/**
 * Longest request target (path + query) the client sends. Alpaca's edge is
 * nginx, whose default `large_client_header_buffers 4 8k` refuses a request
 * line over 8 KiB with 414 Request-URI Too Large (users of the official C#
 * SDK hit it with long symbol lists); 8,000 leaves room for the method, the
 * HTTP version and a proxy's path prefix.
 */
export const MAX_REQUEST_TARGET_BYTES = 8_000;

/**
 * The basket rule that keeps every request under MAX_REQUEST_TARGET_BYTES
 * whatever the tickers: at most 500 symbols of at most 10 characters
 * (`^[A-Z]{1,6}(\.[A-Z]{1,3})?$`) cost 500 × 10 + 499 × 3 (the `%2C`
 * separators) = 6,497 bytes, and every other parameter, a 1,000-character
 * page token included, fits in the remaining 1,503 (tests/integration/alpaca/
 * client-contract.test.ts sends that worst case).
 */
export const MAX_BASKET_SYMBOLS = 500;
export const MAX_TICKER_LENGTH = 10;

export interface AlpacaClientConfig {
  /** Default ALPACA_DATA_HOST (the simulator's URL in tests). */
  baseUrl?: string;
  keyId: string;
  secretKey: string;
  /** Per-request timeout covering connect, headers and body (default 30 s). */
  timeoutMs?: number;
  /** Rate-limit hook, awaited before every HTTP request (shared budget across instances). */
  acquire?: () => Promise<void>;
  /** Called once for every 429 Alpaca answers, before the error is thrown (the spend record). */
  onRateLimited?: () => Promise<void>;
  /** Fetch implementation (default: the global fetch). */
  fetch?: typeof fetch;
}
