/** `jobs status`: the job_progress view, one line per definition (and the other monitoring views on request). */
import { type Command, Option } from "commander";
import { z } from "zod";
import { addDbOption, type DbOptions, requireDbUrl, withDb } from "./db.ts";
import { DefinitionId, parseFlags } from "./flags.ts";
import { formatInstant, printJson, renderTable } from "./format.ts";
import { printByStatus, printRouting } from "./status-views.ts";

interface StatusOptions extends DbOptions {
  id?: string;
  kind?: "single" | "batch";
  json?: boolean;
  byStatus?: boolean;
  routing?: boolean;
}

export interface ProgressRow {
  job_def_id: string;
  kind: string;
  symbol: string;
  symbols_count: number;
  timeframe: string;
  range_start: Date;
  range_end: Date;
  enabled: boolean;
  slices_done: number;
  slices_failed: number;
  slices_running: number;
  slices_queued: number;
  slices_cancelled: number;
  slices_total: number;
  bars_written: number;
  last_activity_at: Date | null;
}

export function registerStatus(program: Command): void {
  const cmd = program.command("status").description("progress per definition (the job_progress view)")
    .option("--id <n>", "only this definition")
    .addOption(new Option("--kind <kind>", "only single or batch definitions").choices(["single", "batch"]))
    .option("--by-status", "runs and bars per definition and status (the job_status_by_definition view)")
    .option("--routing", "stored kind, route, and the old system's inference (the job_batch_detection view)")
    .option("--json", "print rows as JSON");
  addDbOption(cmd).action(async (opts: StatusOptions) => {
    const { id } = parseFlags(z.object({ id: DefinitionId.optional() }), { id: opts.id });
    if (opts.byStatus || opts.routing) {
      const print = opts.routing ? printRouting : printByStatus;
      return await withDb(requireDbUrl(opts), (sql) => print(sql, { id, kind: opts.kind }, Boolean(opts.json)));
    }
    const rows = await withDb(requireDbUrl(opts), (sql) => sql<ProgressRow[]>`
      select job_def_id::text, kind, symbol, symbols_count::int, timeframe, range_start, range_end, enabled,
             slices_done::int, slices_failed::int, slices_running::int, slices_queued::int, slices_cancelled::int,
             slices_total::int, bars_written::float8 as bars_written, last_activity_at
        from public.job_progress
       where (${id ?? null}::bigint is null or job_def_id = ${id ?? null}::bigint)
         and (${opts.kind ?? null}::text is null or kind = ${opts.kind ?? null}::text)
       order by job_def_id`);
    if (opts.json) return printJson(rows);
    if (rows.length === 0) return console.log("no job definitions");
    console.log(renderTable(rows, [
      { header: "id", value: (r) => Number(r.job_def_id) },
      { header: "kind", value: (r) => r.kind },
      { header: "name", value: (r) => r.symbol },
      { header: "symbols", value: (r) => r.symbols_count },
      { header: "timeframe", value: (r) => r.timeframe },
      { header: "enabled", value: (r) => (r.enabled ? "yes" : "no") },
      { header: "done", value: (r) => r.slices_done },
      { header: "failed", value: (r) => r.slices_failed },
      { header: "running", value: (r) => r.slices_running },
      { header: "queued", value: (r) => r.slices_queued },
      { header: "cancelled", value: (r) => r.slices_cancelled },
      { header: "total", value: (r) => r.slices_total },
      { header: "bars", value: (r) => r.bars_written },
      { header: "last activity", value: (r) => formatInstant(r.last_activity_at) },
    ]));
    const sum = (key: keyof ProgressRow) => rows.reduce((n, r) => n + Number(r[key]), 0);
    console.log(`${rows.length} definition(s): ${sum("slices_done")}/${sum("slices_total")} slices done, ` +
      `${sum("slices_failed")} failed, ${sum("bars_written")} bars written`);
  });
}
