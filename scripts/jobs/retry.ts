/** `jobs retry`: failed (optionally cancelled) runs back to queued, through retry_job_runs(). */
import type { Command } from "commander";
import { z } from "zod";
import { addDbOption, type DbOptions, requireDbUrl, withDb } from "./db.ts";
import { DefinitionId, parseFlags } from "./flags.ts";
import { printJson } from "./format.ts";

interface RetryOptions extends DbOptions {
  id?: string;
  includeCancelled?: boolean;
  json?: boolean;
}

export function registerRetry(program: Command): void {
  const cmd = program.command("retry").description("put failed runs back in the queue with fresh attempts")
    .option("--id <n>", "only runs of this definition (default: every definition)")
    .option("--include-cancelled", "also requeue cancelled runs (re-enables their definitions)")
    .option("--json", "print the result as JSON");
  addDbOption(cmd).action(async (opts: RetryOptions) => {
    const { id } = parseFlags(z.object({ id: DefinitionId.optional() }), { id: opts.id });
    const includeCancelled = Boolean(opts.includeCancelled);
    const requeued = await withDb(requireDbUrl(opts), async (sql) => {
      if (id !== undefined) {
        const [def] = await sql`select 1 from public.job_definitions where id = ${id}`;
        if (!def) throw new Error(`no definition with --id ${id}`);
      }
      const [{ n }] = await sql<{ n: number }[]>`
        select public.retry_job_runs(${id ?? null}::bigint, ${includeCancelled}) as n`;
      return n!;
    });
    if (opts.json) return printJson({ requeued });
    const scope = id === undefined ? "every definition" : `definition ${id}`;
    console.log(`requeued ${requeued} run(s) of ${scope} (${includeCancelled ? "failed and cancelled" : "failed"} -> queued)`);
  });
}
