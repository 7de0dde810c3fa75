/**
 * Query validation for both bars endpoints, with Alpaca's statuses and
 * messages, as the real API answers them. Checks run in a fixed order and the
 * first failure wins. Produces the walk query plus paging parameters.
 */
import { formatDay, nyDayOf, nyMidnight, parseDay, parseTimeframe } from "../lib/market-calendar/index.ts";
import { parseAdjustment } from "./corporate-actions.ts";
import { goDateLayoutError, parseRfc3339 } from "./go-time.ts";
import { isWellFormedSymbol } from "./symbols.ts";
import { decodePageToken, type DecodedToken } from "./tokens.ts";
import type { WalkQuery } from "./walk.ts";

export type Plan = "basic" | "algo_trader_plus";

export interface ParsedRequest {
  walk: WalkQuery;
  limit: number;
  pageToken: DecodedToken | undefined;
  /** Raw `page_token` as sent (for the repeat-token fault). */
  rawPageToken: string | undefined;
  currency: string | undefined;
}

export interface ParamError {
  status: number;
  message: string;
  code?: number;
}

const KNOWN = ["timeframe", "start", "end", "limit", "adjustment", "asof", "feed", "currency", "page_token", "sort"];
const RECENT_MS = 15 * 60_000;
export const DEFAULT_LIMIT = 1000;
export const MAX_LIMIT = 10_000;

class Reject extends Error {
  constructor(readonly error: ParamError) {
    super(error.message);
  }
}
function bad(message: string, status = 400): never {
  throw new Reject({ status, message });
}

/** Parses an inclusive bound: RFC-3339, or 'YYYY-MM-DD' meaning the whole New York day. */
function parseBound(name: string, value: string, edge: "start" | "end"): number {
  const ts = parseRfc3339(value);
  if (ts) return edge === "start" && ts.subMs ? ts.ms + 1 : ts.ms;
  const goError = goDateLayoutError(value);
  if (goError) bad(`Invalid format for parameter ${name}: error parsing '${value}' as RFC3339 or 2006-01-02 time: ${goError}`);
  const day = parseDay(value)!;
  return edge === "start" ? nyMidnight(day) : nyMidnight(day + 1) - 1;
}

function parseSymbols(raw: string | null): string[] {
  const list = (raw ?? "").split(",").map((s) => s.trim()).filter((s) => s !== "");
  if (list.length === 0) bad("Invalid format for parameter symbols: query parameter 'symbols' is required");
  for (const s of list) if (!isWellFormedSymbol(s)) bad(`invalid symbol: ${s}`);
  return [...new Set(list)].sort();
}

function parseLimit(raw: string | null): number {
  if (raw === null) return DEFAULT_LIMIT;
  if (!/^[+-]?\d+$/.test(raw)) {
    bad(`Invalid format for parameter limit: error binding string parameter: strconv.ParseInt: parsing ${JSON.stringify(raw)}: invalid syntax`);
  }
  const n = Number(raw);
  if (n < 1 || n > MAX_LIMIT) bad(`invalid limit: limit must be between 1 and ${MAX_LIMIT}`);
  return n;
}

function oneOf<T extends string>(name: string, raw: string | null, values: readonly T[], fallback: T | null): T | null {
  if (raw === null) return fallback;
  if (!(values as readonly string[]).includes(raw)) bad(`invalid ${name}: ${raw}`);
  return raw as T;
}

/** `single`: the symbol comes from the path and `symbols` is not a parameter. */
export function parseBarsRequest(
  params: URLSearchParams,
  pathSymbol: string | undefined,
  plan: Plan,
  nowMs: number,
): ParsedRequest | ParamError {
  try {
    const known = pathSymbol === undefined ? [...KNOWN, "symbols"] : KNOWN;
    const unexpected = [...new Set(params.keys())].filter((k) => !known.includes(k));
    if (unexpected.length > 0) throw new Reject({ status: 400, code: 40010000, message: `unexpected parameter(s): ${unexpected.join(", ")}` });

    const symbols = pathSymbol === undefined ? parseSymbols(params.get("symbols")) : parseSymbols(pathSymbol);
    const tfText = params.get("timeframe");
    if (tfText === null) bad("Invalid format for parameter timeframe: query parameter 'timeframe' is required");
    const tf = parseTimeframe(tfText) ?? bad(`invalid timeframe: ${tfText}`);
    const startRaw = params.get("start");
    const endRaw = params.get("end");
    const start = startRaw === null ? undefined : parseBound("start", startRaw, "start");
    const end = endRaw === null ? undefined : parseBound("end", endRaw, "end");
    const limit = parseLimit(params.get("limit"));
    const sort = oneOf("sort", params.get("sort"), ["asc", "desc"] as const, "asc")!;
    const feedParam = oneOf("feed", params.get("feed"), ["sip", "iex", "boats", "otc"] as const, null);
    const adjRaw = params.get("adjustment");
    const kinds = adjRaw === null ? new Set<never>() : parseAdjustment(adjRaw) ?? bad(`invalid adjustment: ${adjRaw}`);
    const asof = parseAsof(params.get("asof"), nowMs);
    const currency = params.get("currency") ?? undefined;
    if (currency !== undefined && !/^[A-Z]{3}$/.test(currency)) bad(`invalid currency: ${currency}`);

    // Plans without real-time SIP see SIP only up to 15 minutes ago (Alpaca's basic-plan rule).
    const realtime = plan === "algo_trader_plus" || feedParam === "iex";
    const endMs = end ?? (realtime ? nowMs : nowMs - RECENT_MS);
    const todayMidnight = nyMidnight(nyDayOf(nowMs));
    const startMs = start ?? (realtime ? todayMidnight : Math.min(todayMidnight, nowMs - RECENT_MS));
    if (endMs < startMs) bad("end should not be before start");
    const recent = endMs > nowMs - RECENT_MS;
    if (plan === "basic" && feedParam === "sip" && recent) bad("subscription does not permit querying recent SIP data", 403);
    const feed = feedParam ?? (plan === "basic" && recent ? "iex" : "sip");

    const rawPageToken = params.get("page_token") || undefined;
    const pageToken = rawPageToken === undefined ? undefined : decodePageToken(rawPageToken);
    if (rawPageToken !== undefined && (!pageToken || pageToken.letter !== tf.letter || !symbols.includes(pageToken.symbol))) {
      bad("invalid page_token");
    }
    const walk: WalkQuery = {
      symbols,
      tf,
      startMs,
      endMs,
      feed: feed === "sip" || feed === "iex" ? feed : null,
      kinds,
      asof,
      sort,
      nowMs,
    };
    return { walk, limit, pageToken, rawPageToken, currency };
  } catch (e) {
    if (e instanceof Reject) return e.error;
    throw e;
  }
}

function parseAsof(raw: string | null, nowMs: number): string {
  if (raw === null || raw === "") return formatDay(nyDayOf(nowMs));
  if (raw === "-") return "-";
  const goError = goDateLayoutError(raw);
  if (goError) bad(`Invalid format for parameter asof: error parsing '${raw}' as 2006-01-02 time: ${goError}`);
  return raw;
}

export const isParamError = (r: ParsedRequest | ParamError): r is ParamError => "status" in r;
