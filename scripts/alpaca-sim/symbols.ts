/**
 * The simulated symbol universe: which tickers exist, how liquid they are,
 * and ticker renames resolved through `asof`.
 *
 * Every well-formed ticker has data, except tickers starting with "ZZZ"
 * (reserved as "unknown": they behave exactly like a symbol with no bars).
 * Bars belong to an *entity* (the company), so a renamed ticker shows the same
 * history under either label.
 */
import { nyMidnight, parseDay } from "../lib/market-calendar/index.ts";
import { hashString, unit } from "./random.ts";

/** Upper-case tickers with an optional class suffix: AAPL, BRK.B, BRK/B. */
const TICKER = /^[A-Z][A-Z0-9]{0,9}([./][A-Z0-9]{1,4})?$/;

export function isWellFormedSymbol(s: string): boolean {
  return TICKER.test(s);
}

export const UNKNOWN_SYMBOL_PREFIX = "ZZZ";

export interface Rename {
  from: string;
  to: string;
  /** First New York day trading under the new ticker. */
  day: string;
}

export const RENAMES: readonly Rename[] = [{ from: "FB", to: "META", day: "2022-06-09" }];

/**
 * Tickers that trade only part of the time: listed on `firstDay` (no bars
 * before it), delisted after `lastDay` (no bars after it). The asset list
 * (assets.ts) shows the delisted ones as inactive.
 */
export interface ListingWindow {
  symbol: string;
  firstDay?: string;
  lastDay?: string;
}

export const LISTING_WINDOWS: readonly ListingWindow[] = [
  { symbol: "DLST", lastDay: "2024-03-06" },
  { symbol: "NEWL", firstDay: "2024-03-06" },
];

function listingWindow(symbol: string): { from: number; to: number } {
  const w = LISTING_WINDOWS.find((l) => l.symbol === symbol);
  return {
    from: w?.firstDay ? nyMidnight(parseDay(w.firstDay)!) : -Infinity,
    to: w?.lastDay ? nyMidnight(parseDay(w.lastDay)! + 1) : Infinity,
  };
}

/** Which entity's bars a ticker shows, and the time window (UTC ms) it covers. */
export interface EntityWindow {
  entity: string;
  from: number;
  /** Exclusive. */
  to: number;
}

/**
 * `asof` = '-' disables mapping: a ticker shows only the period it was in use.
 * `asof` = day D: the ticker means whoever used it on D, with their whole history.
 */
export function resolveEntity(symbol: string, asofDay: string | "-"): EntityWindow | null {
  if (symbol.startsWith(UNKNOWN_SYMBOL_PREFIX)) return null;
  const all = { from: -Infinity, to: Infinity };
  for (const r of RENAMES) {
    const switchMs = nyMidnight(parseDay(r.day)!);
    if (symbol === r.from) {
      if (asofDay === "-") return { entity: r.to, from: -Infinity, to: switchMs };
      return asofDay < r.day ? { entity: r.to, ...all } : null;
    }
    if (symbol === r.to) {
      if (asofDay === "-") return { entity: r.to, from: switchMs, to: Infinity };
      return asofDay >= r.day ? { entity: r.to, ...all } : null;
    }
  }
  return { entity: symbol, ...listingWindow(symbol) };
}

/** Names that trade every regular-session minute on SIP. */
const LIQUID = new Set([
  "AAPL", "MSFT", "NVDA", "SPY", "QQQ", "AMZN", "GOOGL", "GOOG", "META", "TSLA", "AMD", "NFLX", "IWM", "AVGO", "JPM",
]);

export interface Profile {
  entity: string;
  key: number;
  /** Probability a SIP minute has trades, regular and extended hours. */
  pRegular: number;
  pExtended: number;
  /** Fraction of SIP minutes that also trade on IEX (regular; extended is half). */
  iexCoverage: number;
  /** Price level (today's adjusted dollars) and mean regular-minute volume. */
  basePrice: number;
  baseVolume: number;
  /** Mean shares per trade. */
  tradeSize: number;
}

const profiles = new Map<string, Profile>();

export function profileOf(entity: string): Profile {
  const cached = profiles.get(entity);
  if (cached) return cached;
  const key = hashString(entity);
  const r = (salt: number) => unit(key, salt, 0);
  const tier = LIQUID.has(entity) ? 0 : r(1) < 0.3 ? 0 : r(1) < 0.8 ? 1 : 2;
  const profile: Profile = {
    entity,
    key,
    pRegular: [1, 0.9 + 0.09 * r(2), 0.6 + 0.3 * r(2)][tier]!,
    pExtended: [0.9 + 0.05 * r(3), 0.3 + 0.3 * r(3), 0.05 + 0.2 * r(3)][tier]!,
    iexCoverage: [0.97 + 0.03 * r(4), 0.6 + 0.3 * r(4), 0.45 + 0.25 * r(4)][tier]!,
    basePrice: Math.round(10 + 490 * r(5) ** 2),
    baseVolume: Math.round([40_000, 8_000, 1_500][tier]! * (0.5 + r(6))),
    tradeSize: Math.round(40 + 120 * r(7)),
  };
  profiles.set(entity, profile);
  return profile;
}
