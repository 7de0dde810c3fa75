/**
 * The market-data client's configuration from environment variables, for
 * callers outside the functions (the Deno client bench and its tests); the
 * functions themselves read theirs through `_shared/config.ts`. Free of Node
 * and Deno APIs: the caller supplies env access.
 */
import type { AlpacaClientConfig } from "../../supabase/functions/_shared/alpaca/config.ts";

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
