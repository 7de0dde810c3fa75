/** `jobs status`: the job_progress view, one line per definition (and the other monitoring views on request). */
import { type Command, Option } from "commander";
import { z } from "zod";
import { addDbOption, type DbOptions, requireDbUrl, withDb } from "./db.ts";
import { printDefinitionView } from "./definition-view.ts";
import { DefinitionId, parseFlags } from "./flags.ts";
import { byStatusView, followView, progressView, routingView } from "./status-views.ts";

interface StatusOptions extends DbOptions {
  id?: string;
  kind?: "single" | "batch";
  json?: boolean;
  byStatus?: boolean;
  routing?: boolean;
  follow?: boolean;
  limit?: string;
}

export function registerStatus(program: Command): void {
  const cmd = program.command("status").description("progress per definition (the job_progress view)")
    .option("--id <n>", "only this definition")
    .addOption(new Option("--kind <kind>", "only single or batch definitions").choices(["single", "batch"]))
    .option("--by-status", "runs and bars per definition and status (the job_status_by_definition view)")
    .option("--routing", "stored kind, route, and the old system's inference (the job_batch_detection view)")
    .option("--follow", "followed definitions: covered through, last catch-up, days behind (the job_follow_status view)")
    .option("--json", "print rows as JSON")
    .option("--limit <n>", "table rows shown at most, the summary still counts all (0: all)", "50");
  addDbOption(cmd).action(async (opts: StatusOptions) => {
    const { id, limit } = parseFlags(z.object({ id: DefinitionId.optional(), limit: z.coerce.number().int().min(0) }),
      { id: opts.id, limit: opts.limit });
    const filter = { id, kind: opts.kind };
    const json = Boolean(opts.json);
    // --follow wins over --routing, which wins over --by-status, when several are given.
    await withDb(requireDbUrl(opts), (sql) => {
      if (opts.follow) return printDefinitionView(sql, followView, filter, json, limit);
      if (opts.routing) return printDefinitionView(sql, routingView, filter, json, limit);
      if (opts.byStatus) return printDefinitionView(sql, byStatusView, filter, json, limit);
      return printDefinitionView(sql, progressView, filter, json, limit);
    });
  });
}
