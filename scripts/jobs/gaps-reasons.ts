/**
 * Why a trading day has no bars for a symbol, from what the database knows:
 * the runs whose slices cover the session (none, not done yet, or done: then
 * Alpaca had nothing), the asset list last fetched (`alpaca_assets`: inactive
 * means delisted or renamed), and the symbol's first and last stored bars
 * (a day before the first looks like "listed later", one after the last like
 * "stopped trading"). A run never fails for a symbol without bars: this is
 * where such a symbol shows up instead.
 */
import type { Sql } from "postgres";
import { nyDay, type Session } from "../lib/market-calendar/index.ts";
import type { ExplainMissing, GapQuery } from "./gaps-counts.ts";

interface RunSpan {
  start: number;
  end: number;
  status: string;
  symbols: string[];
}

interface SymbolFacts {
  asset?: { status: string; tradable: boolean; exchange: string };
  firstBarDay?: string;
  lastBarDay?: string;
}

export async function missingBarsExplainer(sql: Sql, q: GapQuery): Promise<ExplainMissing> {
  const assets = await sql<{ symbol: string; status: string; tradable: boolean; exchange: string }[]>`
    select symbol, status, tradable, exchange from public.alpaca_assets where symbol in ${sql(q.symbols)}`;
  // One index probe per end per symbol (bars' primary key is symbol, timeframe, ts), whatever the table's size.
  const extents = await sql<{ symbol: string; first: Date | null; last: Date | null }[]>`
    select s.symbol,
           (select min(b.ts) from public.bars b where b.symbol = s.symbol and b.timeframe = ${q.timeframe}) as first,
           (select max(b.ts) from public.bars b where b.symbol = s.symbol and b.timeframe = ${q.timeframe}) as last
      from unnest(${q.symbols}::text[]) as s(symbol)`;
  const runs = (await sql<{ start: Date; end: Date; status: string; symbols: string[] }[]>`
    select r.slice_start as start, r.slice_end as end, r.status, public.job_definition_symbols(d) as symbols
      from public.job_runs r join public.job_definitions d on d.id = r.job_def_id
     where d.timeframe = ${q.timeframe} and r.slice_end > ${q.start} and r.slice_start < ${q.end}
       and public.job_definition_symbols(d) ?| ${q.symbols}::text[]`)
    .map((r): RunSpan => ({ start: r.start.getTime(), end: r.end.getTime(), status: r.status, symbols: r.symbols }));
  const facts = new Map<string, SymbolFacts>(q.symbols.map((s) => [s, {}]));
  for (const a of assets) facts.get(a.symbol)!.asset = a;
  for (const e of extents) {
    const f = facts.get(e.symbol)!;
    if (e.first) f.firstBarDay = nyDay(e.first.getTime());
    if (e.last) f.lastBarDay = nyDay(e.last.getTime());
  }
  return (symbol, session) => whyMissing(facts.get(symbol) ?? {}, runs.filter((r) => r.symbols.includes(symbol)), session);
}

export function whyMissing(f: SymbolFacts, runs: readonly RunSpan[], s: Session): string {
  const overlapping = runs.filter((r) => r.start < s.extendedClose && r.end > s.extendedOpen);
  if (overlapping.length === 0) return "no slice covers this session";
  const done = overlapping.filter((r) => r.status === "success");
  const wholly = done.some((r) => r.start <= s.extendedOpen && r.end >= s.extendedClose) ||
    coveredTogether(done, s.extendedOpen, s.extendedClose);
  if (!wholly) {
    const pending = [...new Set(overlapping.filter((r) => r.status !== "success").map((r) => r.status))].join("/");
    return `not fetched yet: slice ${pending}`;
  }
  if (f.asset?.status === "inactive" && (!f.lastBarDay || s.day > f.lastBarDay)) {
    return `asset inactive at Alpaca (delisted or renamed)${f.lastBarDay ? `; last bar ${f.lastBarDay}` : "; no bars stored"}`;
  }
  if (f.firstBarDay && s.day < f.firstBarDay) return `before its first bar (${f.firstBarDay}): listed later?`;
  if (f.lastBarDay && s.day > f.lastBarDay) return `Alpaca has no bars after ${f.lastBarDay} (slice succeeded)`;
  if (!f.firstBarDay) {
    return f.asset ? "no data from Alpaca (slice succeeded)" : "no data from Alpaca (slice succeeded); not in the cached asset list";
  }
  return "no data from Alpaca for this day (slice succeeded)";
}

/** True when the successful slices, together, cover [from, to) without a hole. */
function coveredTogether(done: readonly RunSpan[], from: number, to: number): boolean {
  let reached = from;
  for (const r of [...done].sort((a, b) => a.start - b.start)) {
    if (r.start > reached) return false;
    reached = Math.max(reached, r.end);
    if (reached >= to) return true;
  }
  return false;
}
