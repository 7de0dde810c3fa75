/** `jobs create`: validates, then plans every definition with plan_backfill in one transaction. */
import { type Command, Option } from "commander";
import type { Sql } from "postgres";
import { type CreateFlags, definitionsToPlan, type PlannedDefinition, type RawCreateOptions, validateCreateFlags } from "./create-flags.ts";
import { addDbOption, type DbOptions, findDbUrl, requireDbUrl, withDb } from "./db.ts";
import { formatInstant, printJson, renderTable } from "./format.ts";
import { parseSymbolList, readSymbolsFile } from "./symbols-input.ts";

interface CreateOptions extends DbOptions, Omit<RawCreateOptions, "symbols" | "symbolsFile"> {
  symbols?: string;
  symbolsFile?: string;
  dryRun?: boolean;
  json?: boolean;
}

interface PlannedRow extends PlannedDefinition {
  id: string;
  slices: number;
  state: "created" | "existed" | "would create" | "exists";
}

class DryRunRollback extends Error {
  constructor(readonly rows: PlannedRow[]) {
    super("dry run");
  }
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
    .requiredOption("--from <date>", "range start: YYYY-MM-DD (New York midnight) or ISO-8601 with offset")
    .requiredOption("--to <date>", "range end, exclusive: YYYY-MM-DD (New York midnight) or ISO-8601")
    .option("--timeframe <tf>", "Alpaca timeframe", "1Min")
    .option("--feed <feed>", "sip, iex, boats or otc", "sip")
    .option("--adjustment <adj>", "raw, split, dividend, spin-off, all (or a list)", "raw")
    .option("--priority <n>", "lower runs first", "100")
    .option("--max-attempts <n>", "attempts per slice before it fails", "5")
    .option("--target-bars <n>", "bars per slice the planner aims for", "500000")
    .option("--dry-run", "validate and plan inside a transaction that is rolled back")
    .option("--json", "print the result as JSON");
  addDbOption(cmd).action(async (opts: CreateOptions) => {
    const raw: RawCreateOptions = {
      ...opts,
      symbols: opts.symbols === undefined ? undefined : parseSymbolList(opts.symbols),
      symbolsFile: opts.symbolsFile === undefined ? undefined : await readSymbolsFile(opts.symbolsFile),
    };
    const flags = validateCreateFlags(raw);
    const plan = definitionsToPlan(flags);
    if (opts.dryRun && !findDbUrl(opts)) return printPlanOnly(plan, flags);
    const rows = await withDb(requireDbUrl(opts), (sql) => planAll(sql, plan, flags, Boolean(opts.dryRun)));
    if (opts.json) return printJson({ dryRun: Boolean(opts.dryRun), definitions: rows });
    console.log(renderTable(rows, [
      { header: "id", value: (r) => (r.state === "would create" ? "-" : r.id), align: "right" },
      { header: "kind", value: (r) => r.kind },
      { header: "name", value: (r) => r.name },
      { header: "symbols", value: (r) => r.symbols?.length ?? 1 },
      { header: "timeframe", value: () => flags.timeframe },
      { header: "from", value: () => formatInstant(flags.from) },
      { header: "to", value: () => formatInstant(flags.to) },
      { header: "slices", value: (r) => r.slices },
      { header: "state", value: (r) => r.state },
    ]));
    const slices = rows.reduce((n, r) => n + r.slices, 0);
    console.log(`${rows.length} definition(s), ${slices} slice(s)${opts.dryRun ? " (dry run: rolled back, nothing written)" : ""}`);
  });
}

async function planAll(sql: Sql, plan: PlannedDefinition[], f: CreateFlags, dryRun: boolean): Promise<PlannedRow[]> {
  try {
    return await sql.begin(async (tx) => {
      const rows: PlannedRow[] = [];
      for (const d of plan) {
        const [existing] = await tx<{ id: string }[]>`
          select id::text from public.job_definitions
           where kind = ${d.kind} and symbol = ${d.name} and timeframe = ${f.timeframe} and feed = ${f.feed}
             and adjustment = ${f.adjustment} and range_start = ${f.from} and range_end = ${f.to}`;
        const [planned] = await tx<{ id: string }[]>`
          select public.plan_backfill(${d.kind}, ${d.name}, ${d.symbols ? tx.json(d.symbols) : null}::jsonb,
                   ${f.timeframe}, ${f.from}, ${f.to}, ${f.feed}, ${f.adjustment},
                   ${f.priority}, ${f.maxAttempts}, ${f.targetBars})::text as id`;
        const [{ slices }] = await tx<{ slices: number }[]>`
          select count(*)::int as slices from public.job_runs where job_def_id = ${planned!.id}`;
        const state = existing ? (dryRun ? "exists" : "existed") : (dryRun ? "would create" : "created");
        rows.push({ ...d, id: planned!.id, slices: slices!, state });
      }
      if (dryRun) throw new DryRunRollback(rows);
      return rows;
    }) as PlannedRow[];
  } catch (err) {
    if (err instanceof DryRunRollback) return err.rows;
    throw err;
  }
}

function printPlanOnly(plan: PlannedDefinition[], f: CreateFlags): void {
  console.log(renderTable(plan, [
    { header: "kind", value: (d) => d.kind },
    { header: "name", value: (d) => d.name },
    { header: "symbols", value: (d) => d.symbols?.length ?? 1 },
    { header: "timeframe", value: () => f.timeframe },
    { header: "from", value: () => formatInstant(f.from) },
    { header: "to", value: () => formatInstant(f.to) },
  ]));
  console.log(`${plan.length} definition(s) valid (dry run without a database: slices not planned)`);
}
