/**
 * `jobs cancel`: cancel_job_definition() for every matching definition, in one
 * transaction. Cancelling every single-symbol definition (--kind single) is the
 * seed's queue cleanup; touching more than one definition needs --yes.
 */
import { type Command, Option } from "commander";
import { z } from "zod";
import { UsageError } from "./cli-errors.ts";
import { addDbOption, type DbOptions, requireDbUrl, withDb } from "./db.ts";
import { DefinitionId, parseFlags } from "./flags.ts";
import { printJson, renderTable } from "./format.ts";

interface CancelOptions extends DbOptions {
  id?: string;
  kind?: "single" | "batch";
  name?: string;
  yes?: boolean;
  json?: boolean;
}

interface CancelledRow {
  id: string;
  kind: string;
  symbol: string;
  cancelled: number;
}

export function registerCancel(program: Command): void {
  const cmd = program.command("cancel").description("cancel queued and running runs of definitions and disable them")
    .option("--id <n>", "the definition with this id")
    .addOption(new Option("--kind <kind>", "every definition of this kind (single: the seed's queue cleanup)").choices(["single", "batch"]))
    .option("--name <name>", "definitions with this name (a ticker or a basket name)")
    .option("--yes", "confirm when more than one definition matches")
    .option("--json", "print the result as JSON");
  cmd.addHelpText("after", "\nSelectors combine (AND). Example: jobs cancel --kind single --yes");
  addDbOption(cmd).action(async (opts: CancelOptions) => {
    const { id } = parseFlags(z.object({ id: DefinitionId.optional() }), { id: opts.id });
    if (id === undefined && !opts.kind && opts.name === undefined) {
      throw new UsageError("say what to cancel: --id <n>, --kind single|batch or --name <name>");
    }
    const rows = await withDb(requireDbUrl(opts), (sql) => sql.begin(async (tx) => {
      const defs = await tx<{ id: string; kind: string; symbol: string }[]>`
        select id::text, kind, symbol from public.job_definitions
         where (${id ?? null}::bigint is null or id = ${id ?? null}::bigint)
           and (${opts.kind ?? null}::text is null or kind = ${opts.kind ?? null}::text)
           and (${opts.name ?? null}::text is null or symbol = ${opts.name ?? null}::text)
         order by id
           for update`;
      if (defs.length > 1 && !opts.yes) {
        const ids = defs.slice(0, 20).map((d) => d.id).join(", ") + (defs.length > 20 ? ", …" : "");
        throw new UsageError(`this would cancel ${defs.length} definitions (ids ${ids}): pass --yes to confirm`);
      }
      const out: CancelledRow[] = [];
      for (const d of defs) {
        const [{ n }] = await tx<{ n: number }[]>`select public.cancel_job_definition(${d.id}::bigint) as n`;
        out.push({ ...d, cancelled: n! });
      }
      return out;
    }) as Promise<CancelledRow[]>);
    if (rows.length === 0) {
      const what = [id !== undefined && `--id ${id}`, opts.kind && `--kind ${opts.kind}`, opts.name !== undefined && `--name ${opts.name}`];
      const message = `no definition matches ${what.filter(Boolean).join(" ")}; nothing cancelled`;
      if (id !== undefined || opts.name !== undefined) throw new Error(message);
      return opts.json ? printJson({ definitions: [], cancelledRuns: 0 }) : console.log(message);
    }
    const total = rows.reduce((n, r) => n + r.cancelled, 0);
    if (opts.json) return printJson({ definitions: rows, cancelledRuns: total });
    console.log(renderTable(rows, [
      { header: "id", value: (r) => Number(r.id) },
      { header: "kind", value: (r) => r.kind },
      { header: "name", value: (r) => r.symbol },
      { header: "runs cancelled", value: (r) => r.cancelled },
    ]));
    console.log(`cancelled ${total} run(s) of ${rows.length} definition(s); the definitions are disabled`);
  });
}
