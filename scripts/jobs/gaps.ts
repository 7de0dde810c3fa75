/**
 * `jobs gaps`: per symbol and New York day, bars stored vs the most the market
 * calendar allows (the cached Alpaca calendar; the rules where no refresh
 * covered a day), why a trading day has none, and (--ground-truth, for data
 * from the Alpaca simulator) vs the exact rows the simulator serves.
 */
import type { Command } from "commander";
import type { Sql } from "postgres";
import { z } from "zod";
import { UsageError } from "./cli-errors.ts";
import { addDbOption, type DbOptions, requireDbUrl, withDb } from "./db.ts";
import { Adjustment, DefinitionId, Feed, Instant, parseFlags, Ticker, Timeframe } from "./flags.ts";
import { formatInstant, printJson, renderTable } from "./format.ts";
import { loadCalendar } from "./calendar-cache.ts";
import { calendarDaysOf, type GapQuery, type GapRow, gapRows, groundTruthCounts, storedCounts } from "./gaps-counts.ts";
import { missingBarsExplainer } from "./gaps-reasons.ts";
import { parseSymbolList } from "./symbols-input.ts";

interface GapsOptions extends DbOptions {
  id?: string;
  symbol?: string;
  symbols?: string;
  from?: string;
  to?: string;
  timeframe?: string;
  feed?: string;
  adjustment?: string;
  groundTruth?: boolean;
  flaggedOnly?: boolean;
  json?: boolean;
}

const GapsFlags = z.object({
  id: DefinitionId.optional(),
  symbol: Ticker.optional(),
  symbols: z.array(Ticker).optional(),
  from: Instant.optional(),
  to: Instant.optional(),
  timeframe: Timeframe.optional(),
  feed: Feed.optional(),
  adjustment: Adjustment.optional(),
}).superRefine((f, ctx) => {
  const issue = (path: string, message: string) => ctx.addIssue({ code: "custom", path: [path], message });
  if (f.from && f.to && f.to <= f.from) issue("to", "must be after --from (the end is exclusive)");
  if (f.id !== undefined) {
    for (const flag of ["timeframe", "feed", "adjustment"] as const) if (f[flag]) issue(flag, "comes from the definition given by --id");
    return;
  }
  if (!f.symbol && !f.symbols?.length) issue("symbol", "give --id <definition> or --symbol/--symbols with --from and --to");
  if (!f.from) issue("from", "required without --id");
  if (!f.to) issue("to", "required without --id");
});
type GapsFlags = z.output<typeof GapsFlags>;

export function registerGaps(program: Command): void {
  const cmd = program.command("gaps").description("bars stored per symbol and New York day vs what the market calendar implies")
    .option("--id <n>", "check this definition's symbols, timeframe and range")
    .option("--symbol <ticker>", "check this symbol (with --id: only this one of the definition's)")
    .option("--symbols <list>", "check these comma-separated symbols")
    .option("--from <date>", "range start: YYYY-MM-DD (New York midnight) or ISO-8601 (with --id: narrows the range)")
    .option("--to <date>", "range end, exclusive")
    .option("--timeframe <tf>", "timeframe without --id (default 1Min)")
    .option("--feed <feed>", "feed for --ground-truth without --id (default sip)")
    .option("--adjustment <adj>", "adjustment for --ground-truth without --id (default raw)")
    .option("--ground-truth", "also compare with the Alpaca simulator's exact bar counts (simulated data only)")
    .option("--flagged-only", "print only the days that are flagged")
    .option("--json", "print rows and summary as JSON");
  addDbOption(cmd).action(async (opts: GapsOptions) => {
    const flags = parseFlags(GapsFlags, { ...opts, symbols: opts.symbols === undefined ? undefined : parseSymbolList(opts.symbols) });
    const { query, rows } = await withDb(requireDbUrl(opts), async (sql) => {
      const query = await resolveQuery(sql, flags);
      const stored = await storedCounts(sql, query);
      const { firstDay, lastDay } = calendarDaysOf(query);
      const calendar = await loadCalendar(sql, firstDay, lastDay);
      const explain = await missingBarsExplainer(sql, query);
      return { query, rows: gapRows(query, calendar, stored, opts.groundTruth ? groundTruthCounts(query) : undefined, explain) };
    });
    printReport(query, rows, opts);
  });
}

async function resolveQuery(sql: Sql, f: GapsFlags): Promise<GapQuery> {
  const wanted = [...(f.symbol ? [f.symbol] : []), ...(f.symbols ?? [])];
  if (f.id === undefined) {
    return { symbols: wanted, timeframe: f.timeframe ?? "1Min", feed: f.feed ?? "sip", adjustment: f.adjustment ?? "raw", start: f.from!, end: f.to! };
  }
  const [def] = await sql<{ symbols: string[]; timeframe: string; feed: string; adjustment: string; range_start: Date; range_end: Date }[]>`
    select public.job_definition_symbols(d) as symbols, d.timeframe, d.feed, d.adjustment, d.range_start, d.range_end
      from public.job_definitions d where d.id = ${f.id}`;
  if (!def) throw new Error(`no definition with --id ${f.id}`);
  const outside = wanted.filter((s) => !def.symbols.includes(s));
  if (outside.length) throw new UsageError(`--symbol: ${outside.join(", ")} not in definition ${f.id} (${def.symbols.length} symbols)`);
  const start = new Date(Math.max(def.range_start.getTime(), f.from?.getTime() ?? -Infinity));
  const end = new Date(Math.min(def.range_end.getTime(), f.to?.getTime() ?? Infinity));
  if (end <= start) throw new UsageError(`--from/--to: outside definition ${f.id}'s range`);
  return { ...def, symbols: wanted.length ? wanted : def.symbols, start, end };
}

function printReport(q: GapQuery, rows: GapRow[], opts: GapsOptions): void {
  const sum = (pick: (r: GapRow) => number) => rows.reduce((n, r) => n + pick(r), 0);
  const summary = {
    symbolDays: rows.length,
    flagged: rows.filter((r) => r.flags.length).length,
    stored: sum((r) => r.stored),
    calendarCeiling: sum((r) => r.ceiling),
    tradingDaysWithoutBars: rows.filter((r) => r.ceiling > 0 && r.stored === 0).length,
    nonTradingDaysWithBars: rows.filter((r) => r.session === "closed" && r.stored > 0).length,
    calendar: {
      alpaca: new Set(rows.filter((r) => r.calendar === "alpaca").map((r) => r.day)).size,
      rules: new Set(rows.filter((r) => r.calendar === "rules").map((r) => r.day)).size,
      notCached: new Set(rows.filter((r) => r.calendar === "rules, not cached").map((r) => r.day)).size,
    },
    ...(opts.groundTruth
      ? { groundTruth: sum((r) => r.truth ?? 0), missing: sum((r) => Math.max(0, (r.truth ?? 0) - r.stored)), extra: sum((r) => Math.max(0, r.stored - (r.truth ?? 0))) }
      : {}),
  };
  const shown = opts.flaggedOnly ? rows.filter((r) => r.flags.length) : rows;
  if (opts.json) return printJson({ query: q, summary, rows: shown });
  console.log(`${q.symbols.length} symbol(s), ${q.timeframe}, ${formatInstant(q.start)} to ${formatInstant(q.end)} (end exclusive)`);
  if (shown.length) {
    console.log(renderTable(shown, [
      { header: "symbol", value: (r) => r.symbol },
      { header: "day", value: (r) => r.day },
      { header: "session", value: (r) => r.session },
      { header: "stored", value: (r) => r.stored },
      { header: "calendar max", value: (r) => r.ceiling },
      ...(opts.groundTruth ? [{ header: "ground truth", value: (r: GapRow) => r.truth }] : []),
      { header: "flags", value: (r) => r.flags.join("; ") },
      ...(shown.some((r) => r.why) ? [{ header: "why", value: (r: GapRow) => r.why }] : []),
    ]));
  }
  console.log(`${summary.symbolDays} symbol-day(s): ${summary.stored} bars stored, the calendar allows at most ` +
    `${summary.calendarCeiling}; ${summary.flagged} flagged (${summary.tradingDaysWithoutBars} trading day(s) without bars, ` +
    `${summary.nonTradingDaysWithBars} non-trading day(s) with bars)`);
  const c = summary.calendar;
  console.log(`calendar: ${c.alpaca} day(s) from Alpaca's calendar (cached), ${c.rules} by rule (cached: Alpaca had none), ` +
    `${c.notCached} by rule, not cached` + (c.notCached ? " (npm run jobs -- calendar refresh --from … --to … caches them)" : ""));
  if (opts.groundTruth) {
    console.log(`ground truth: expected ${summary.groundTruth}, stored ${summary.stored}, missing ${summary.missing}, extra ${summary.extra}`);
  }
}
