/**
 * The simulated asset list of Alpaca's Trading API (`GET /v2/assets`): a
 * deterministic universe that holds every symbol the seed's baskets use, a few
 * ETFs, class-suffix tickers (BRK.B), an inactive renamed ticker (FB), a
 * delisted one (DLST) and a new listing (NEWL) whose bars follow the listing
 * windows of symbols.ts, OTC, non-tradable and crypto assets, and a block of
 * synthetic tickers spread over the five US exchanges. Tests grow it with
 * `extraAssets` / `addAssets`.
 *
 * Shapes follow the Trading API's `Assets` schema (alpacahq/alpaca-trade-api-js
 * tooling/specs/trading-api.json, the SDK's trading/models/Assets.ts): required
 * class, exchange, fractionable, id, marginable, name, shortable, status,
 * symbol, tradable.
 */
import { US_BATCH_1, US_BATCH_2 } from "../lib/seed-baskets.ts";
import { hashString, unit } from "./random.ts";

/** The SDK's enums (trading/models/Exchange.ts, AssetClass.ts, AssetAttribute.ts). */
export const EXCHANGES = ["AMEX", "ARCA", "BATS", "NYSE", "NASDAQ", "NYSEARCA", "OTC", "CRYPTO"] as const;
export const ASSET_CLASSES = [
  "us_equity", "us_option", "crypto", "crypto_perp", "treasury", "corporate", "global_equity", "us_index", "us_equity_chain", "ipo",
] as const;
export const ASSET_ATTRIBUTES = [
  "ptp_no_exception", "ptp_with_exception", "ipo", "has_options", "options_late_close", "fractional_eh_enabled",
  "overnight_tradable", "overnight_halted",
] as const;

export type Exchange = (typeof EXCHANGES)[number];
export type AssetClass = (typeof ASSET_CLASSES)[number];
export type AssetAttribute = (typeof ASSET_ATTRIBUTES)[number];

/** What a test says about a listing; the rest of the record is derived. */
export interface SimAssetSpec {
  symbol: string;
  exchange: Exchange;
  class?: AssetClass;
  name?: string;
  status?: "active" | "inactive";
  tradable?: boolean;
  attributes?: AssetAttribute[];
}

/** The wire record, keys in Alpaca's (alphabetical) order. */
export interface SimAsset {
  attributes: AssetAttribute[];
  class: AssetClass;
  easy_to_borrow: boolean;
  exchange: Exchange;
  fractionable: boolean;
  id: string;
  maintenance_margin_requirement: number;
  marginable: boolean;
  name: string;
  shortable: boolean;
  status: "active" | "inactive";
  symbol: string;
  tradable: boolean;
}

/** A stable UUID (version 4 layout) from the symbol, so ids never change between runs. */
function assetId(symbol: string): string {
  const hex = [0, 1, 2, 3].map((i) => hashString(`${symbol}#${i}`).toString(16).padStart(8, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

export function toAsset(spec: SimAssetSpec): SimAsset {
  const cls = spec.class ?? "us_equity";
  const tradable = spec.tradable ?? true;
  const equity = cls === "us_equity";
  const r = unit(hashString(spec.symbol), 91, 0);
  return {
    attributes: spec.attributes ?? (equity && tradable && r < 0.6 ? ["has_options"] : []),
    class: cls,
    easy_to_borrow: equity && tradable && r < 0.8,
    exchange: spec.exchange,
    fractionable: tradable && (cls === "crypto" || r < 0.7),
    id: assetId(spec.symbol),
    maintenance_margin_requirement: equity && tradable ? 30 : 100,
    marginable: equity && tradable,
    name: spec.name ?? `${spec.symbol} ${equity ? "Common Stock" : "Asset"}`,
    shortable: equity && tradable && r < 0.8,
    status: spec.status ?? "active",
    symbol: spec.symbol,
    tradable,
  };
}

const NASDAQ_SEED = new Set([
  "AAPL", "MSFT", "NVDA", "AMZN", "GOOGL", "GOOG", "META", "AVGO", "ADBE", "AMD", "COST", "CSCO", "INTC", "INTU", "ISRG",
  "NFLX", "PEP", "QCOM", "AMGN", "BKNG", "HON", "LIN", "TMUS", "TSLA", "TXN",
]);

/** Four-letter synthetic tickers QXAA, QXAB, …: listings on every US exchange, some inactive, some not tradable. */
function syntheticListings(count: number): SimAssetSpec[] {
  const us: Exchange[] = ["NYSE", "NASDAQ", "ARCA", "AMEX", "BATS"];
  return Array.from({ length: count }, (_, i) => {
    const symbol = `QX${String.fromCharCode(65 + Math.floor(i / 26))}${String.fromCharCode(65 + (i % 26))}`;
    return {
      symbol,
      exchange: us[i % us.length]!,
      name: `Synthetic ${symbol} Corp`,
      status: i % 9 === 8 ? "inactive" : "active",
      tradable: i % 9 !== 8 && i % 7 !== 6,
    };
  });
}

const BASE_SPECS: SimAssetSpec[] = [
  ...[...US_BATCH_1, ...US_BATCH_2].map((symbol): SimAssetSpec => ({
    symbol,
    exchange: NASDAQ_SEED.has(symbol) ? "NASDAQ" : "NYSE",
  })),
  { symbol: "SPY", exchange: "ARCA", name: "SPDR S&P 500 ETF Trust" },
  { symbol: "QQQ", exchange: "NASDAQ", name: "Invesco QQQ Trust" },
  { symbol: "IWM", exchange: "ARCA", name: "iShares Russell 2000 ETF" },
  { symbol: "CBOE", exchange: "BATS", name: "Cboe Global Markets Inc" },
  { symbol: "IMO", exchange: "AMEX", name: "Imperial Oil Ltd" },
  { symbol: "BRK.A", exchange: "NYSE", name: "Berkshire Hathaway Inc Class A" },
  { symbol: "BF.B", exchange: "NYSE", name: "Brown-Forman Corp Class B" },
  // Renamed to META on 2022-06-09 (symbols.ts RENAMES): the old ticker stays, inactive.
  { symbol: "FB", exchange: "NASDAQ", name: "Meta Platforms Inc (old ticker)", status: "inactive", tradable: false },
  // Delisted after 2024-03-06 and listed on 2024-03-06 (symbols.ts LISTING_WINDOWS).
  { symbol: "DLST", exchange: "NYSE", name: "Delisted Example Corp", status: "inactive", tradable: false },
  { symbol: "NEWL", exchange: "NASDAQ", name: "New Listing Example Inc" },
  { symbol: "NOTRD", exchange: "NYSE", name: "Not Tradable Example Corp", tradable: false },
  { symbol: "NSRGY", exchange: "OTC", name: "Nestle SA ADR" },
  { symbol: "OTCX", exchange: "OTC", name: "OTC Example Inc", tradable: false },
  { symbol: "BTC/USD", exchange: "CRYPTO", class: "crypto", name: "Bitcoin / US Dollar" },
  { symbol: "ETH/USD", exchange: "CRYPTO", class: "crypto", name: "Ethereum / US Dollar" },
  ...syntheticListings(40),
];

/** The asset list, in a fixed order (by symbol), with `extra` listings added (a later spec for a symbol wins). */
export function buildUniverse(extra: readonly SimAssetSpec[] = []): SimAsset[] {
  const bySymbol = new Map<string, SimAsset>();
  for (const spec of [...BASE_SPECS, ...extra]) bySymbol.set(spec.symbol, toAsset(spec));
  return [...bySymbol.values()].sort((a, b) => (a.symbol < b.symbol ? -1 : a.symbol > b.symbol ? 1 : 0));
}

export interface AssetFilter {
  status?: "active" | "inactive";
  assetClass: AssetClass;
  exchange?: Exchange;
  attributes?: AssetAttribute[];
}

/** `GET /v2/assets` semantics: every status when none is given; any of the listed attributes. */
export function filterAssets(universe: readonly SimAsset[], f: AssetFilter): SimAsset[] {
  return universe.filter((a) =>
    a.class === f.assetClass &&
    (f.status === undefined || a.status === f.status) &&
    (f.exchange === undefined || a.exchange === f.exchange) &&
    (f.attributes === undefined || f.attributes.some((x) => a.attributes.includes(x)))
  );
}
