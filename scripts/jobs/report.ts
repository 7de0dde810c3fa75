/**
 * `jobs report`: one self-contained HTML page (inline SVG and CSS, nothing
 * fetched) with the coverage heatmap, each definition's progress, what the
 * runs spent of Alpaca's budget, and the recent errors by cause.
 */
import type { Command } from "commander";
import { z } from "zod";
import { writeReport } from "../report/write.ts";
import { UsageError } from "./cli-errors.ts";
import { addDbOption, type DbOptions, requireDbUrl, withDb } from "./db.ts";
import { DefinitionId, parseFlags } from "./flags.ts";

interface ReportOptions extends DbOptions {
  id?: string;
  all?: boolean;
  out: string;
}

export function registerReport(program: Command): void {
  const cmd = program.command("report").description("write an HTML coverage and spend report (self-contained, for a browser)")
    .option("--id <n>", "report on this definition")
    .option("--all", "report on every definition")
    .option("--out <file>", "where to write the page", "report.html");
  addDbOption(cmd).action(async (opts: ReportOptions) => {
    if (Boolean(opts.id) === Boolean(opts.all)) throw new UsageError("give exactly one of --id <definition> or --all");
    if (!opts.out.trim()) throw new UsageError("--out: give a file name");
    const { id } = parseFlags(z.object({ id: DefinitionId.optional() }), { id: opts.id });
    const written = await withDb(requireDbUrl(opts), (sql) => writeReport(sql, id === undefined ? undefined : [id], opts.out));
    const { definitions, spend } = written.data;
    console.log(`report: ${written.path} (${Math.ceil(written.bytes / 1024)} KB; ${definitions.length} definition(s), ` +
      `${spend.requests} Alpaca request(s), ${spend.rateLimited} 429(s))`);
  });
}
