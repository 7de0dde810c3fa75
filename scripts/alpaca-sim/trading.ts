/**
 * The two Trading API endpoints the jobs CLI uses, with the Trading API's
 * own auth and error shapes, which differ from the market-data host's:
 * errors are JSON `{"code": <8 digits>, "message": …}` (401 `40110000`
 * "request is not authorized", 403 `40310000` "request is forbidden", 422
 * `42210000`, all recorded in public clients), not nginx HTML. With the
 * simulator's `authFailureStatus: 403`, a bad key gets that 403.
 *
 * - `GET /v2/assets` (status, asset_class, exchange, attributes): no status
 *   means every status; no asset_class means us_equity; attributes match any.
 * - `GET /v2/calendar` (start, end, date_type): the rule calendar the bar
 *   data come from, 2007 (where the rules are valid) to 2029 (where Alpaca's
 *   own calendar ends). `start`/`end` are dates or RFC-3339 instants (the SDK
 *   v4 sends `Date.toISOString()`); an instant means its New York day.
 *
 * Unknown parameters and values outside the SDK's enums are refused (422):
 * stricter than documented, so a client bug shows here first.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { alpacaCalendarDays, nyDayOf, parseDay } from "../lib/market-calendar/index.ts";
import {
  ASSET_ATTRIBUTES,
  ASSET_CLASSES,
  type AssetAttribute,
  type AssetClass,
  EXCHANGES,
  type Exchange,
  filterAssets,
  type SimAsset,
} from "./assets.ts";
import { parseRfc3339 } from "./go-time.ts";
import { nextRequestId, rateHeaders, send } from "./http-replies.ts";
import type { RateLimiter } from "./rate-limit.ts";

export const TRADING_ROUTES = new Set(["/v2/assets", "/v2/calendar"]);

/** Trading API budget per key (Alpaca: 200 requests a minute, apart from the market-data budget). */
export const TRADING_REQUESTS_PER_MINUTE = 200;

const CALENDAR_FIRST = parseDay("2007-01-01")!;
const CALENDAR_LAST = parseDay("2029-12-31")!;

export interface TradingState {
  keys: Array<{ keyId: string; secret: string }>;
  authFailureStatus: 401 | 403;
  limiter: RateLimiter;
  universe: () => readonly SimAsset[];
  requests: { assets: number; calendar: number; refused: number };
}

export const UNAUTHORIZED_JSON = { code: 40110000, message: "request is not authorized" };
export const FORBIDDEN_JSON = { code: 40310000, message: "request is forbidden" };

class Refusal extends Error {
  constructor(readonly status: number, readonly body: { code: number; message: string }) {
    super(body.message);
  }
}
const invalid = (message: string) => new Refusal(422, { code: 42210000, message });
const malformed = (message: string) => new Refusal(400, { code: 40010000, message });

function onlyKnown(params: URLSearchParams, known: string[]): void {
  const unknown = [...params.keys()].filter((k) => !known.includes(k));
  if (unknown.length) throw invalid(`unexpected parameter(s): ${unknown.join(", ")}`);
}

function oneOf<T extends string>(name: string, value: string | null, allowed: readonly T[]): T | undefined {
  if (value === null) return undefined;
  if (!(allowed as readonly string[]).includes(value)) throw invalid(`invalid ${name}: ${value}`);
  return value as T;
}

function assetsReply(params: URLSearchParams, universe: readonly SimAsset[]): SimAsset[] {
  onlyKnown(params, ["status", "asset_class", "exchange", "attributes"]);
  const attributes = params.get("attributes");
  return filterAssets(universe, {
    status: oneOf("status", params.get("status"), ["active", "inactive"] as const),
    assetClass: oneOf<AssetClass>("asset_class", params.get("asset_class"), ASSET_CLASSES) ?? "us_equity",
    exchange: oneOf<Exchange>("exchange", params.get("exchange"), EXCHANGES),
    attributes: attributes === null
      ? undefined
      : attributes.split(",").map((a) => oneOf<AssetAttribute>("attributes", a, ASSET_ATTRIBUTES)!),
  });
}

/** A date, or an RFC-3339 instant taken as its New York day. */
function calendarDay(name: string, value: string | null, fallback: number): number {
  if (value === null) return fallback;
  const day = parseDay(value);
  if (day !== undefined) return day;
  const ts = parseRfc3339(value);
  if (ts) return nyDayOf(ts.ms);
  throw malformed(`invalid ${name}: ${value} is neither a date (YYYY-MM-DD) nor an RFC-3339 time`);
}

function calendarReply(params: URLSearchParams) {
  onlyKnown(params, ["start", "end", "date_type"]);
  const first = calendarDay("start", params.get("start"), CALENDAR_FIRST);
  const last = calendarDay("end", params.get("end"), CALENDAR_LAST);
  if (last < first) throw invalid("end should not be before start");
  const byTrading = (oneOf("date_type", params.get("date_type"), ["TRADING", "SETTLEMENT"] as const) ?? "TRADING") === "TRADING";
  // A settlement date is at most a week after its trade date.
  const rows = alpacaCalendarDays(Math.max(first - (byTrading ? 0 : 7), CALENDAR_FIRST), Math.min(last, CALENDAR_LAST));
  if (byTrading) return rows;
  return rows.filter((r) => parseDay(r.settlement_date)! >= first && parseDay(r.settlement_date)! <= last);
}

function authenticate(req: IncomingMessage, keys: TradingState["keys"]): string | undefined {
  const id = req.headers["apca-api-key-id"];
  const secret = req.headers["apca-api-secret-key"];
  return keys.find((k) => k.keyId === id && k.secret === secret)?.keyId;
}

const json = (body: unknown) => JSON.stringify(body);

/** Answers a Trading API request; the caller has matched `TRADING_ROUTES`. */
export function handleTrading(state: TradingState, req: IncomingMessage, res: ServerResponse, url: URL): void {
  if (req.method !== "GET") return send(res, 405, json({ code: 40510000, message: "method not allowed" }));
  const keyId = authenticate(req, state.keys);
  if (!keyId) {
    state.requests.refused++;
    const status = state.authFailureStatus;
    return send(res, status, json(status === 401 ? UNAUTHORIZED_JSON : FORBIDDEN_JSON));
  }
  const decision = state.limiter.take(`trading:${keyId}`, TRADING_REQUESTS_PER_MINUTE);
  if (!decision.allowed) {
    state.requests.refused++;
    return send(res, 429, json({ code: 42910000, message: "rate limit exceeded" }), rateHeaders({ ...decision, remaining: 0 }));
  }
  const headers = { ...rateHeaders(decision), "X-Request-ID": nextRequestId() };
  try {
    const body = url.pathname === "/v2/assets" ? assetsReply(url.searchParams, state.universe()) : calendarReply(url.searchParams);
    state.requests[url.pathname === "/v2/assets" ? "assets" : "calendar"]++;
    send(res, 200, json(body), headers);
  } catch (err) {
    if (!(err instanceof Refusal)) throw err;
    state.requests.refused++;
    send(res, err.status, json(err.body), headers);
  }
}
