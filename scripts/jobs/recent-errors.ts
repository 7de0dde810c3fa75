/** `jobs errors`: the job_recent_errors view, newest first. */
import type { Command } from "commander";
import { z } from "zod";
import { addDbOption, type DbOptions, requireDbUrl, withDb } from "./db.ts";
import { DefinitionId, intFlag, parseFlags } from "./flags.ts";
import { formatInstant, printJson, renderTable, truncate } from "./format.ts";

interface ErrorsOptions extends DbOptions {
  id?: string;
  limit: string;
  full?: boolean;
  json?: boolean;
}

interface ErrorRow {
  run_id: string;
  job_def_id: string;
  kind: string;
  symbol: string;
  status: string;
  attempt: number;
  max_attempts: number;
  slice_start: Date;
  slice_end: Date;
  error_message: string;
  at: Date;
}

const ErrorsFlags = z.object({ id: DefinitionId.optional(), limit: intFlag(1, 100) });

export function registerErrors(program: Command): void {
  const cmd = program.command("errors").description("recent run errors (the job_recent_errors view, newest first)")
    .option("--id <n>", "only runs of this definition")
    .option("--limit <n>", "how many, newest first", "20")
    .option("--full", "do not shorten error messages")
    .option("--json", "print rows as JSON");
  addDbOption(cmd).action(async (opts: ErrorsOptions) => {
    const { id, limit } = parseFlags(ErrorsFlags, { id: opts.id, limit: opts.limit });
    const rows = await withDb(requireDbUrl(opts), (sql) => sql<ErrorRow[]>`
      select run_id::text, job_def_id::text, kind, symbol, status, attempt, max_attempts,
             slice_start, slice_end, error_message, at
        from public.job_recent_errors
       where (${id ?? null}::bigint is null or job_def_id = ${id ?? null}::bigint)
       order by at desc, run_id desc
       limit ${limit}`);
    if (opts.json) return printJson(rows);
    if (rows.length === 0) return console.log("no errors recorded");
    console.log(renderTable(rows, [
      { header: "run", value: (r) => Number(r.run_id) },
      { header: "def", value: (r) => Number(r.job_def_id) },
      { header: "kind", value: (r) => r.kind },
      { header: "name", value: (r) => r.symbol },
      { header: "status", value: (r) => r.status },
      { header: "attempt", value: (r) => `${r.attempt}/${r.max_attempts}`, align: "right" },
      { header: "slice start", value: (r) => formatInstant(r.slice_start) },
      { header: "at", value: (r) => formatInstant(r.at) },
      { header: "error", value: (r) => (opts.full ? r.error_message : truncate(r.error_message, 100)) },
    ]));
    console.log(`${rows.length} error(s)`);
  });
}
