/**
 * `jobs create`: validates, then plans every definition with plan_backfill in
 * one transaction. With --universe the baskets come from Alpaca's asset list
 * (universe-plan.ts), planned in that same transaction.
 */
import { type Command, Option } from "commander";
import type { Sql, TransactionSql } from "postgres";
import { addTradingOption, type TradingOptions } from "./alpaca-trading.ts";
import { describeRangeCalendar, sessionsInRange } from "./calendar-cache.ts";
import { daysOfRange } from "./calendar.ts";
import { type CreateFlags, definitionsToPlan, type PlannedDefinition, plannedRangeEnd, type RawCreateOptions, validateCreateFlags } from "./create-flags.ts";
import { rangeRefusal } from "./range-refusal.ts";
import { addDbOption, type DbOptions, findDbUrl, inTransaction, requireDbUrl, withDb } from "./db.ts";
import { formatInstant, printJson, renderTable } from "./format.ts";
import { parseSymbolList, readSymbolsFile } from "./symbols-input.ts";
import { planUniverse, type UniverseReport, universeSummary } from "./universe-plan.ts";

interface CreateOptions extends DbOptions, TradingOptions, Omit<RawCreateOptions, "symbols" | "symbolsFile" | "exchange"> {
  symbols?: string;
  symbolsFile?: string;
  exchange?: string;
  dryRun?: boolean;
  json?: boolean;
}

interface PlannedRow extends PlannedDefinition {
  id: string;
  slices: number;
  /** The definition's end: --to, or for --follow the last completed session's end. */
  rangeEnd: Date;
  state: "created" | "existed" | "would create" | "exists";
}

export function registerCreate(program: Command): void {
  const cmd = program.command("create").description("plan a backfill: one definition (or several baskets) and its slices");
  cmd.addOption(new Option("--kind <kind>", "single (one ticker) or batch (a named basket); never inferred")
    .choices(["single", "batch"]).makeOptionMandatory())
    .option("--symbol <ticker>", "the ticker of a single-symbol definition")
    .option("--symbols <list>", "batch: comma-separated tickers")
    .option("--symbols-file <path>", "batch: tickers one per line or comma-separated; # starts a comment")
    .option("--name <basket>", "batch: the basket's name, e.g. US_BATCH_1")
    .option("--prefix <prefix>", "batch: split the list into baskets named <prefix>_1 … <prefix>_k")
    .option("--basket-size <n>", "most symbols per basket", "50")
    .option("--universe", "batch: baskets from Alpaca's asset list (GET /v2/assets), filtered, in symbol order (needs --prefix)")
    .option("--status <status>", "--universe: active (default), inactive or any")
    .option("--asset-class <class>", "--universe: us_equity (default; the only class with stock bars)")
    .option("--exchange <list>", "--universe: comma-separated exchanges (default NYSE,NASDAQ,ARCA,AMEX,BATS)")
    .option("--include-non-tradable", "--universe: keep assets Alpaca marks not tradable (default: only tradable ones)")
    .requiredOption("--from <date>", "range start: YYYY-MM-DD (New York midnight) or ISO-8601 with offset")
    .option("--to <date>", "range end, exclusive: YYYY-MM-DD (New York midnight) or ISO-8601")
    .option("--follow", "no end: plan through the last completed session, then a daily catch-up keeps it current")
    .option("--until <instant>", "with --follow: the present to plan up to (default: now), e.g. to replay a past day")
    .option("--timeframe <tf>", "Alpaca timeframe", "1Min")
    .option("--feed <feed>", "sip, iex, boats or otc", "sip")
    .option("--adjustment <adj>", "raw, split, dividend, spin-off, all (or a list)", "raw")
    .option("--priority <n>", "lower runs first", "100")
    .option("--max-attempts <n>", "attempts per slice before it fails", "5")
    .option("--target-bars <n>", "bars per slice the planner aims for", "500000")
    .option("--dry-run", "validate and plan inside a transaction that is rolled back")
    .option("--json", "print the result as JSON");
  addTradingOption(addDbOption(cmd)).action(async (opts: CreateOptions) => {
    const raw: RawCreateOptions = {
      ...opts,
      symbols: opts.symbols === undefined ? undefined : parseSymbolList(opts.symbols),
      symbolsFile: opts.symbolsFile === undefined ? undefined : await readSymbolsFile(opts.symbolsFile),
      exchange: opts.exchange === undefined ? undefined : opts.exchange.split(",").map((e) => e.trim()).filter(Boolean),
    };
    const flags = validateCreateFlags(raw);
    let prepare: Prepare = () => Promise.resolve(definitionsToPlan(flags));
    let report: UniverseReport | undefined;
    if (flags.universe) {
      const universe = await planUniverse(flags, opts);
      if (opts.dryRun && !findDbUrl(opts)) return printPlanOnly(universe.withoutDatabase(), flags, universe.report);
      report = universe.report;
      prepare = universe.prepare;
    } else if (opts.dryRun && !findDbUrl(opts)) {
      return printPlanOnly(definitionsToPlan(flags), flags);
    }
    const { rows, calendar } = await withDb(requireDbUrl(opts), async (sql) => {
      const rows = await planAll(sql, prepare, flags, Boolean(opts.dryRun));
      // --universe has made the cache cover the range and reports it itself.
      const { firstDay, lastDay } = daysOfRange(flags.from, plannedRangeEnd(flags));
      return { rows, calendar: report ? undefined : await sessionsInRange(sql, firstDay, lastDay) };
    });
    if (opts.json) {
      return printJson({ dryRun: Boolean(opts.dryRun), ...(report ? { universe: report } : { calendar }), definitions: rows });
    }
    if (report) console.log(universeSummary(report));
    if (calendar) console.log(describeRangeCalendar(calendar));
    console.log(renderTable(rows, [
      { header: "id", value: (r) => (r.state === "would create" ? "-" : r.id), align: "right" },
      { header: "kind", value: (r) => r.kind },
      { header: "name", value: (r) => r.name },
      { header: "symbols", value: (r) => r.symbols?.length ?? 1 },
      { header: "timeframe", value: () => flags.timeframe },
      { header: "from", value: () => formatInstant(flags.from) },
      { header: "to", value: (r) => formatInstant(r.rangeEnd) },
      { header: "follow", value: () => (flags.follow ? "yes" : "no") },
      { header: "slices", value: (r) => r.slices },
      { header: "state", value: (r) => r.state },
    ]));
    const slices = rows.reduce((n, r) => n + r.slices, 0);
    console.log(`${rows.length} definition(s), ${slices} slice(s)${opts.dryRun ? " (dry run: rolled back, nothing written)" : ""}`);
  });
}

/** What to plan, worked out inside the planning transaction (a --universe plan reads the existing baskets there). */
export type Prepare = (tx: TransactionSql) => Promise<PlannedDefinition[]>;

async function planAll(sql: Sql, prepare: Prepare, f: CreateFlags, dryRun: boolean): Promise<PlannedRow[]> {
  return await inTransaction(sql, dryRun, async (tx) => {
    const rows: PlannedRow[] = [];
    // Ids are handed out in order, so an id at or below this one was there before.
    const [{ before }] = await tx<{ before: string }[]>`select coalesce(max(id), 0)::text as before from public.job_definitions`;
    for (const d of await prepare(tx)) {
      const symbols = d.symbols ? tx.json(d.symbols) : null;
      const [planned] = f.follow
        ? await tx<{ id: string }[]>`
            select public.plan_followed_backfill(${d.kind}, ${d.name}, ${symbols}::jsonb, ${f.timeframe}, ${f.from},
                     ${f.feed}, ${f.adjustment}, ${f.priority}, ${f.maxAttempts}, ${f.targetBars},
                     coalesce(${f.until ?? null}::timestamptz, now()))::text as id`.catch(rangeRefusal)
        : await tx<{ id: string }[]>`
            select public.plan_backfill(${d.kind}, ${d.name}, ${symbols}::jsonb,
                     ${f.timeframe}, ${f.from}, ${f.to!}, ${f.feed}, ${f.adjustment},
                     ${f.priority}, ${f.maxAttempts}, ${f.targetBars})::text as id`;
      const [{ slices, range_end }] = await tx<{ slices: number; range_end: Date }[]>`
        select (select count(*)::int from public.job_runs where job_def_id = d.id) as slices, d.range_end
          from public.job_definitions d where d.id = ${planned!.id}`;
      const existed = BigInt(planned!.id) <= BigInt(before!);
      const state = existed ? (dryRun ? "exists" : "existed") : (dryRun ? "would create" : "created");
      rows.push({ ...d, id: planned!.id, slices: slices!, rangeEnd: range_end!, state });
    }
    return rows;
  });
}

function printPlanOnly(plan: PlannedDefinition[], f: CreateFlags, report?: UniverseReport): void {
  if (report) console.log(universeSummary(report));
  console.log(renderTable(plan, [
    { header: "kind", value: (d) => d.kind },
    { header: "name", value: (d) => d.name },
    { header: "symbols", value: (d) => d.symbols?.length ?? 1 },
    { header: "timeframe", value: () => f.timeframe },
    { header: "from", value: () => formatInstant(f.from) },
    { header: "to", value: () => (f.follow ? "(follow)" : formatInstant(f.to)) },
  ]));
  console.log(`${plan.length} definition(s) valid (dry run without a database: slices not planned)`);
}
