/** Configuration of the Alpaca market-data client (runtime-agnostic: the caller passes the values in). */

/** Alpaca's market-data host; npm start and the benchmarks import it too, so it is written once. */
export const ALPACA_DATA_HOST = "https://data.alpaca.markets";
export const DEFAULT_TIMEOUT_MS = 30_000;

export interface AlpacaClientConfig {
  /** Default ALPACA_DATA_HOST (the simulator's URL in tests). */
  baseUrl?: string;
  keyId: string;
  secretKey: string;
  /** Per-request timeout covering connect, headers and body (default 30 s). */
  timeoutMs?: number;
  /** Rate-limit hook, awaited before every HTTP request (shared budget across instances). */
  acquire?: () => Promise<void>;
  /** Fetch implementation (default: the global fetch). */
  fetch?: typeof fetch;
}
