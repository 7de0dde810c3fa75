/**
 * Alpaca's Trading API, the two read-only endpoints this project needs, on
 * the official SDK v4 (`trading.AssetsApi.getV2Assets`, the `GET /v2/assets`
 * list, and `trading.CalendarApi.legacyCalendar`, `GET /v2/calendar`: v3's
 * `getAssets` and `getCalendar`; v4's `calendar` is the other, per-market
 * `GET /v3/calendar/{market}`).
 * Raw responses are parsed here with zod, so a malformed body is caught at
 * this boundary; SDK errors go through classifyAlpacaError, so messages never
 * carry the key or the secret.
 *
 * Host: the SDK's trading `Configuration` picks paper (`paper-api`) or live
 * (`api`) from its `paper` flag unless `basePath` is set; we always set it
 * from `baseUrl` (default the paper host: paper keys only work there; live
 * keys need `https://api.alpaca.markets`). Both hosts serve the same assets
 * and calendar.
 */
import { trading } from "@alpacahq/alpaca-trade-api";
import { z } from "zod";
import { classifyAlpacaError } from "./classify-error.ts";
import { DEFAULT_TIMEOUT_MS } from "./config.ts";

/** The SDK's paper host (trading.TRADING_PAPER_HOST). */
export const ALPACA_TRADING_HOST = trading.TRADING_PAPER_HOST;

export interface AlpacaTradingConfig {
  /** Default ALPACA_TRADING_HOST (the simulator's URL locally). */
  baseUrl?: string;
  keyId: string;
  secretKey: string;
  timeoutMs?: number;
  fetch?: typeof fetch;
}

const Asset = z.object({
  symbol: z.string(),
  name: z.string(),
  class: z.string(),
  exchange: z.string(),
  status: z.enum(["active", "inactive"]),
  tradable: z.boolean(),
});
export type AlpacaAsset = z.output<typeof Asset>;

const HHMM = /^\d{2}:?\d{2}$/;
const CalendarDay = z.object({
  date: z.string().regex(/^\d{4}-\d{2}-\d{2}$/),
  open: z.string().regex(HHMM),
  close: z.string().regex(HHMM),
  session_open: z.string().regex(HHMM),
  session_close: z.string().regex(HHMM),
  settlement_date: z.string().regex(/^\d{4}-\d{2}-\d{2}$/).optional(),
});
export type AlpacaCalendarSession = z.output<typeof CalendarDay>;

export interface AssetQuery {
  status?: "active" | "inactive";
  assetClass?: string;
  exchange?: string;
  attributes?: string[];
}

export interface AlpacaTradingClient {
  listAssets(q: AssetQuery): Promise<AlpacaAsset[]>;
  /** Sessions of the inclusive New York day range 'YYYY-MM-DD'..'YYYY-MM-DD'. */
  calendar(firstDay: string, lastDay: string): Promise<AlpacaCalendarSession[]>;
}

/**
 * The SDK sends `Date.toISOString()` for the calendar's start and end (the
 * spec's `legacy_start`/`legacy_end` are date-times). Noon UTC is the same
 * calendar day in New York and in UTC, so the day asked for is the day
 * answered whichever way the server reads an instant.
 */
const noonUtc = (day: string) => new Date(`${day}T12:00:00.000Z`);

function parseList<T>(schema: z.ZodType<T>, body: unknown, what: string): T[] {
  const parsed = z.array(schema).safeParse(body);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0]!;
  throw new Error(`Alpaca ${what} response is malformed at [${issue.path.join(".")}]: ${issue.message}`);
}

export function createAlpacaTradingClient(config: AlpacaTradingConfig): AlpacaTradingClient {
  const timeoutMs = config.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const configuration = new trading.Configuration({
    basePath: (config.baseUrl ?? ALPACA_TRADING_HOST).replace(/\/+$/, ""),
    keyId: config.keyId,
    secret: config.secretKey,
    timeoutMs,
    fetchApi: config.fetch,
    // retry and rateLimit unset: both are off on a raw Configuration, so one call is one request.
  });
  const assets = new trading.AssetsApi(configuration);
  const calendar = new trading.CalendarApi(configuration);
  const ctx = { timeoutMs, secrets: [config.secretKey, config.keyId] };
  const call = async <T>(send: () => Promise<{ raw: Response }>, schema: z.ZodType<T>, what: string): Promise<T[]> => {
    let body: unknown;
    try {
      body = await (await send()).raw.json();
    } catch (err) {
      throw classifyAlpacaError(err, ctx);
    }
    return parseList(schema, body, what);
  };
  return {
    listAssets: (q) =>
      call(() => assets.getV2AssetsRaw({
        status: q.status,
        assetClass: q.assetClass,
        exchange: q.exchange,
        attributes: q.attributes as trading.AssetAttribute[] | undefined,
      }), Asset, "assets"),
    calendar: (firstDay, lastDay) =>
      call(() => calendar.legacyCalendarRaw({ start: noonUtc(firstDay), end: noonUtc(lastDay) }), CalendarDay, "calendar"),
  };
}
