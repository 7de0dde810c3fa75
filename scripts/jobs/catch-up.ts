/** `jobs catch-up`: what the scheduled catch-up does, by hand: catch_up_followed_definitions(until). */
import type { Command } from "commander";
import { z } from "zod";
import { addDbOption, type DbOptions, requireDbUrl, withDb } from "./db.ts";
import { DefinitionId, Instant, parseFlags } from "./flags.ts";
import { formatInstant, printJson, renderTable } from "./format.ts";
import { rangeRefusal } from "./range-refusal.ts";

interface CatchUpOptions extends DbOptions {
  id?: string;
  until?: string;
  json?: boolean;
}

interface CatchUpRow {
  job_def_id: string;
  covered_from: Date;
  covered_to: Date;
  slices_added: number;
  note: string | null;
}

export function registerCatchUp(program: Command): void {
  const cmd = program.command("catch-up")
    .description("append the sessions completed since each followed definition's end (what the daily job does)")
    .option("--id <n>", "only this followed definition")
    .option("--until <instant>", "the present to catch up to (default: now); YYYY-MM-DD is New York midnight")
    .option("--json", "print the result as JSON");
  addDbOption(cmd).action(async (opts: CatchUpOptions) => {
    const f = parseFlags(z.object({ id: DefinitionId.optional(), until: Instant.optional() }), { id: opts.id, until: opts.until });
    const rows = await withDb(requireDbUrl(opts), (sql) => sql<CatchUpRow[]>`
      select job_def_id::text, covered_from, covered_to, slices_added, note
        from public.catch_up_followed_definitions(coalesce(${f.until ?? null}::timestamptz, now()), ${f.id ?? null}::bigint)`
      .catch(rangeRefusal));
    if (opts.json) return printJson(rows);
    if (rows.length === 0) return console.log("no enabled followed definitions");
    console.log(renderTable(rows, [
      { header: "id", value: (r) => Number(r.job_def_id) },
      { header: "from", value: (r) => formatInstant(r.covered_from) },
      { header: "to", value: (r) => formatInstant(r.covered_to) },
      { header: "slices", value: (r) => r.slices_added },
      { header: "note", value: (r) => r.note ?? "" },
    ]));
    const added = rows.reduce((n, r) => n + r.slices_added, 0);
    console.log(`${rows.length} followed definition(s), ${added} slice(s) planned`);
  });
}
