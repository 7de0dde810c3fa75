/** Configuration of the Alpaca market-data client (runtime-agnostic: the caller supplies env access). */

export const ALPACA_DATA_HOST = "https://data.alpaca.markets";
export const DEFAULT_TIMEOUT_MS = 30_000;

export interface AlpacaClientConfig {
  /** Default https://data.alpaca.markets (the simulator's URL in tests). */
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

/**
 * Reads ALPACA_DATA_URL (optional), APCA_API_KEY_ID and APCA_API_SECRET_KEY.
 * Throws one error naming every missing or malformed variable (never their values).
 */
export function alpacaConfigFromEnv(getEnv: (name: string) => string | undefined): AlpacaClientConfig {
  const problems: string[] = [];
  const required = (name: string): string => {
    const value = getEnv(name)?.trim();
    if (!value) problems.push(`${name} is missing`);
    return value ?? "";
  };
  const keyId = required("APCA_API_KEY_ID");
  const secretKey = required("APCA_API_SECRET_KEY");
  const baseUrl = getEnv("ALPACA_DATA_URL")?.trim() || undefined;
  if (baseUrl !== undefined && !/^https?:\/\/[^\s/]+/.test(baseUrl)) {
    problems.push("ALPACA_DATA_URL is not an http(s) URL");
  }
  if (problems.length > 0) throw new Error(`Alpaca configuration: ${problems.join("; ")}`);
  return { baseUrl: baseUrl?.replace(/\/+$/, ""), keyId, secretKey };
}
