/**
 * Baskets from Alpaca's asset list (`jobs create --universe`): the assets
 * that pass the filters, in symbol order, split into baskets PREFIX_1 …
 * PREFIX_k. Stable across reruns: the baskets that already exist under the
 * prefix keep exactly their symbols, and only symbols in none of them (new
 * listings) go into new baskets numbered after the last one, so a listing
 * never reshuffles the old baskets and a delisting never empties one.
 */
import type { Sql, TransactionSql } from "postgres";
import type { AlpacaAsset } from "../../supabase/functions/_shared/alpaca/trading.ts";
import { TICKER } from "../../supabase/functions/_shared/slice.ts";
import { UsageError } from "./cli-errors.ts";
import { type Basket, splitIntoBaskets } from "./symbols-input.ts";

/** The exchanges of the SDK's `Exchange` enum (trading/models/Exchange.ts) that list US equities. */
export const EQUITY_EXCHANGES = ["AMEX", "ARCA", "BATS", "NYSE", "NASDAQ", "NYSEARCA", "OTC"] as const;
export const DEFAULT_EXCHANGES = ["NYSE", "NASDAQ", "ARCA", "AMEX", "BATS"] as const;

export interface UniverseFilter {
  status: "active" | "inactive" | "any";
  /** Only us_equity: the bars endpoints this project fetches serve US stocks. */
  assetClass: "us_equity";
  exchanges: readonly string[];
  tradableOnly: boolean;
  /** --symbols / --symbols-file with --universe: only these, each of which must pass the filters. */
  only?: readonly string[];
}

export interface UniverseSelection {
  listed: number;
  symbols: string[];
  /** Assets that pass the filters but whose symbol is not a ticker the bars endpoints take (left out). */
  notTickers: string[];
}

export function describeFilter(f: UniverseFilter): string {
  return [
    f.status === "any" ? "any status" : `status ${f.status}`,
    f.assetClass,
    f.tradableOnly ? "tradable" : "tradable or not",
    `exchanges ${f.exchanges.join(",")}`,
  ].join(", ");
}

/** The symbols that pass the filters, sorted; a UsageError when none do or an `only` symbol does not. */
export function selectUniverse(assets: readonly AlpacaAsset[], f: UniverseFilter): UniverseSelection {
  const passes = (a: AlpacaAsset) =>
    a.class === f.assetClass &&
    (f.status === "any" || a.status === f.status) &&
    f.exchanges.includes(a.exchange) &&
    (!f.tradableOnly || a.tradable);
  const kept = assets.filter(passes);
  const notTickers = kept.filter((a) => !TICKER.test(a.symbol)).map((a) => a.symbol);
  let symbols = [...new Set(kept.filter((a) => TICKER.test(a.symbol)).map((a) => a.symbol))].sort();
  if (f.only) {
    const listed = new Map(assets.map((a) => [a.symbol, a]));
    const refused = f.only.filter((s) => !symbols.includes(s)).map((s) => {
      const a = listed.get(s);
      if (!a) return `${s} (not in Alpaca's asset list)`;
      return `${s} (${a.status}, ${a.tradable ? "tradable" : "not tradable"}, ${a.exchange})`;
    });
    if (refused.length) throw new UsageError(`--symbols: not in the universe (${describeFilter(f)}): ${refused.join(", ")}`);
    symbols = [...new Set(f.only)].sort();
  }
  if (symbols.length === 0) {
    throw new UsageError(`--universe: no asset passes the filters (${describeFilter(f)}) out of ${assets.length} listed; nothing planned`);
  }
  return { listed: assets.length, symbols, notTickers };
}

/** The baskets named PREFIX_<n>, each with the symbols of its newest definition, in basket order. */
export async function existingBaskets(sql: Sql | TransactionSql, prefix: string): Promise<Basket[]> {
  const rows = await sql<{ name: string; symbols: string[] }[]>`
    select distinct on (d.symbol) d.symbol as name, d.symbols_array as symbols
      from public.job_definitions d
     where d.kind = 'batch' and left(d.symbol, ${prefix.length + 1}) = ${`${prefix}_`}
       and substr(d.symbol, ${prefix.length + 2}) ~ '^[1-9][0-9]*$'
     order by d.symbol, d.id desc`;
  const number = (name: string) => Number(name.slice(prefix.length + 1));
  return rows.map((r) => ({ name: r.name, symbols: r.symbols })).sort((a, b) => number(a.name) - number(b.name));
}

export interface StableBaskets {
  baskets: Basket[];
  /** Symbols that went into new baskets. */
  added: string[];
  /** Symbols of existing baskets that no longer pass the filters (kept: baskets never change). */
  stale: string[];
}

/** Existing baskets unchanged, then the symbols in none of them split into new baskets after the last number. */
export function stableBaskets(prefix: string, symbols: readonly string[], size: number, existing: readonly Basket[]): StableBaskets {
  const assigned = new Set(existing.flatMap((b) => b.symbols));
  const added = symbols.filter((s) => !assigned.has(s));
  const wanted = new Set(symbols);
  const last = existing.reduce((n, b) => Math.max(n, Number(b.name.slice(prefix.length + 1))), 0);
  const fresh = splitIntoBaskets(prefix, added, size).map((b, i) => ({ ...b, name: `${prefix}_${last + i + 1}` }));
  return { baskets: [...existing, ...fresh], added, stale: [...assigned].filter((s) => !wanted.has(s)).sort() };
}
