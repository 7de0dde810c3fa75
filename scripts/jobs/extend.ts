/** `jobs extend`: grows a definition's range through extend_job_definition(), which plans only the uncovered part. */
import type { Command } from "commander";
import { z } from "zod";
import { UsageError } from "./cli-errors.ts";
import { addDbOption, type DbOptions, inTransaction, requireDbUrl, withDb } from "./db.ts";
import { DefinitionId, Instant, parseFlags } from "./flags.ts";
import { formatInstant, printJson } from "./format.ts";
import { rangeRefusal } from "./range-refusal.ts";

interface ExtendOptions extends DbOptions {
  id?: string;
  from?: string;
  to?: string;
  dryRun?: boolean;
  json?: boolean;
}

const ExtendFlags = z.object({ id: DefinitionId, from: Instant.optional(), to: Instant.optional() })
  .refine((f) => f.from !== undefined || f.to !== undefined, { path: ["from"], message: "give --from, --to or both: the new range" })
  .refine((f) => f.from === undefined || f.to === undefined || f.to > f.from, { path: ["to"], message: "must be after --from" });

interface Extended {
  id: string;
  before: { from: Date; to: Date };
  after: { from: Date; to: Date };
  slicesAdded: number;
  dryRun: boolean;
}

export function registerExtend(program: Command): void {
  const cmd = program.command("extend").description("grow a definition's range; only the part not covered yet is planned")
    .option("--id <n>", "the definition")
    .option("--from <date>", "new start, at or before the current one: YYYY-MM-DD (New York midnight) or ISO-8601")
    .option("--to <date>", "new end (exclusive), at or after the current one; not for a followed definition")
    .option("--dry-run", "extend inside a transaction that is rolled back: prints what would be planned")
    .option("--json", "print the result as JSON");
  addDbOption(cmd).action(async (opts: ExtendOptions) => {
    if (opts.id === undefined) throw new UsageError("--id: required (jobs status lists the definitions)");
    const f = parseFlags(ExtendFlags, { id: opts.id, from: opts.from, to: opts.to });
    const dryRun = Boolean(opts.dryRun);
    const result = await withDb(requireDbUrl(opts), (sql) => inTransaction(sql, dryRun, async (tx): Promise<Extended> => {
      const [def] = await tx<{ from: Date; to: Date }[]>`
        select range_start as from, range_end as to from public.job_definitions where id = ${f.id}`;
      if (!def) throw new Error(`no definition with --id ${f.id}`);
      const [{ added }] = await tx<{ added: number }[]>`
        select public.extend_job_definition(${f.id}, ${f.from ?? null}::timestamptz, ${f.to ?? null}::timestamptz) as added`
        .catch(rangeRefusal);
      const [after] = await tx<{ from: Date; to: Date }[]>`
        select range_start as from, range_end as to from public.job_definitions where id = ${f.id}`;
      return { id: String(f.id), before: def, after: after!, slicesAdded: added!, dryRun };
    }));
    if (opts.json) return printJson(result);
    const range = (r: { from: Date; to: Date }) => `[${formatInstant(r.from)}, ${formatInstant(r.to)})`;
    console.log(`definition ${result.id}: ${range(result.before)} -> ${range(result.after)}, ` +
      `${result.slicesAdded} slice(s) planned${dryRun ? " (dry run: rolled back, nothing written)" : ""}`);
  });
}
