/**
 * The jobs CLI's Trading API client: keys from APCA_API_KEY_ID /
 * APCA_API_SECRET_KEY (as the functions read them), the host from
 * `--trading-url`, else ALPACA_TRADING_URL, else Alpaca's paper host. Both
 * keys are registered as secrets before anything can print them.
 */
import type { Command } from "commander";
import { z } from "zod";
import {
  ALPACA_TRADING_HOST,
  type AlpacaTradingClient,
  createAlpacaTradingClient,
} from "../../supabase/functions/_shared/alpaca/trading.ts";
import { registerSecret, UsageError } from "./cli-errors.ts";
import { parseFlags } from "./flags.ts";

export interface TradingOptions {
  tradingUrl?: string;
}

export function addTradingOption(cmd: Command): Command {
  return cmd.option("--trading-url <url>", `Alpaca Trading API base URL (default: $ALPACA_TRADING_URL, else ${ALPACA_TRADING_HOST})`);
}

const TradingFlags = z.object({
  tradingUrl: z.url({ protocol: /^https?$/, error: "must be an http(s) URL such as https://paper-api.alpaca.markets" }),
});

/** The client, or a UsageError naming every missing variable. No I/O. */
export function tradingClient(opts: TradingOptions): AlpacaTradingClient {
  const keyId = process.env.APCA_API_KEY_ID;
  const secretKey = process.env.APCA_API_SECRET_KEY;
  registerSecret(keyId);
  registerSecret(secretKey);
  const { tradingUrl } = parseFlags(TradingFlags, { tradingUrl: opts.tradingUrl ?? process.env.ALPACA_TRADING_URL ?? ALPACA_TRADING_HOST });
  const missing = [!keyId && "APCA_API_KEY_ID", !secretKey && "APCA_API_SECRET_KEY"].filter(Boolean);
  if (missing.length) throw new UsageError(`the Alpaca Trading API needs ${missing.join(" and ")} (the keys the functions use)`);
  return createAlpacaTradingClient({ baseUrl: tradingUrl, keyId: keyId!, secretKey: secretKey! });
}
