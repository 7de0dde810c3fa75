/**
 * `jobs create --universe`: fetch Alpaca's asset list, filter it (before any
 * database write: a filter that leaves nothing is a usage error), and, inside
 * the planning transaction, read the existing baskets of the prefix, store the
 * asset list, make sure the calendar covers the range, and hand back the
 * stable baskets to plan.
 */
import type { TransactionSql } from "postgres";
import type { AlpacaAsset } from "../../supabase/functions/_shared/alpaca/trading.ts";
import { type TradingOptions, tradingClient } from "./alpaca-trading.ts";
import { ensureCalendar } from "./calendar-cache.ts";
import { daysOfRange } from "./calendar.ts";
import { type CreateFlags, type PlannedDefinition, plannedRangeEnd, universeFilter } from "./create-flags.ts";
import { describeFilter, existingBaskets, selectUniverse, stableBaskets } from "./universe.ts";

export interface UniverseReport {
  filter: string;
  listed: number;
  passed: number;
  /** Listed under the filters but not tickers the bars endpoints take. */
  notTickers: string[];
  existingBaskets: string[];
  newBaskets: string[];
  addedSymbols: string[];
  /** In existing baskets but no longer passing the filters (kept). */
  staleSymbols: string[];
  calendar?: { firstDay: string; lastDay: string; sessions: number; refreshed: boolean; alpaca: number; rules: number };
}

export interface UniversePlan {
  report: UniverseReport;
  prepare(tx: TransactionSql): Promise<PlannedDefinition[]>;
  /** The plan as if no basket of the prefix existed yet (a dry run without a database). */
  withoutDatabase(): PlannedDefinition[];
}

const asBatches = (baskets: Array<{ name: string; symbols: string[] }>): PlannedDefinition[] =>
  baskets.map((b) => ({ kind: "batch", name: b.name, symbols: b.symbols }));

export async function planUniverse(flags: CreateFlags, opts: TradingOptions): Promise<UniversePlan> {
  const filter = universeFilter(flags);
  const client = tradingClient(opts);
  let assets: AlpacaAsset[];
  try {
    assets = await client.listAssets({ assetClass: filter.assetClass }); // every status: the cache keeps them all
  } catch (err) {
    throw new Error(`Alpaca Trading API, GET /v2/assets: ${(err as Error).message}`, { cause: err });
  }
  const selection = selectUniverse(assets, filter);
  const prefix = flags.prefix!;
  const report: UniverseReport = {
    filter: describeFilter(filter),
    listed: selection.listed,
    passed: selection.symbols.length,
    notTickers: selection.notTickers,
    existingBaskets: [],
    newBaskets: [],
    addedSymbols: [],
    staleSymbols: [],
  };
  const split = (existing: Array<{ name: string; symbols: string[] }>) => {
    const plan = stableBaskets(prefix, selection.symbols, flags.basketSize, existing);
    report.existingBaskets = existing.map((b) => b.name);
    report.newBaskets = plan.baskets.slice(existing.length).map((b) => b.name);
    report.addedSymbols = plan.added;
    report.staleSymbols = plan.stale;
    return asBatches(plan.baskets);
  };
  return {
    report,
    withoutDatabase: () => split([]),
    async prepare(tx) {
      // Two creates with one prefix take turns, so they cannot both number a new basket PREFIX_n.
      await tx`select pg_advisory_xact_lock(hashtext(${`jobs create --universe ${prefix}`}))`;
      const plan = split(await existingBaskets(tx, prefix));
      await tx`select public.save_alpaca_assets(${tx.json(assets as never)})`;
      const { firstDay, lastDay } = daysOfRange(flags.from, plannedRangeEnd(flags));
      let calendar;
      try {
        calendar = await ensureCalendar(tx, client, firstDay, lastDay);
      } catch (err) {
        throw new Error(`Alpaca Trading API, GET /v2/calendar: ${(err as Error).message}`, { cause: err });
      }
      const [{ sessions }] = await tx<{ sessions: number }[]>`
        select count(*)::int as sessions from public.market_calendar where day between ${calendar.firstDay} and ${calendar.lastDay}`;
      report.calendar = { ...calendar, sessions: sessions! };
      return plan;
    },
  };
}

export function universeSummary(r: UniverseReport): string {
  const lines = [
    `universe: ${r.passed} of ${r.listed} listed assets pass the filters (${r.filter})` +
      (r.notTickers.length ? `; left out, not stock tickers: ${r.notTickers.join(", ")}` : ""),
    `baskets: ${r.existingBaskets.length} existing kept as they are, ${r.newBaskets.length} new` +
      (r.newBaskets.length ? ` (${r.newBaskets.join(", ")}) for ${r.addedSymbols.length} symbol(s) in no existing basket` : ""),
  ];
  if (r.staleSymbols.length) {
    lines.push(`note: in existing baskets but no longer passing the filters (kept; gaps explains their missing bars): ${r.staleSymbols.join(", ")}`);
  }
  if (r.calendar) {
    const c = r.calendar;
    lines.push(`calendar: ${c.firstDay} .. ${c.lastDay}, ${c.sessions} session(s) ` +
      (c.refreshed ? `(cached now: ${c.alpaca} from Alpaca, ${c.rules} by rule)` : "(already cached)"));
  }
  return lines.join("\n");
}
