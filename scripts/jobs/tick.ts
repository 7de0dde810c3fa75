/**
 * `jobs tick`: invokes the orchestrator once by hand through supabase-js, the
 * way pg_cron's tick does, locally or against a hosted project.
 */
import type { Command } from "commander";
import { z } from "zod";
import { invokeOrchestrator } from "../lib/orchestrator-client.ts";
import { registerSecret, UsageError } from "./cli-errors.ts";
import { intFlag, parseFlags } from "./flags.ts";
import { printJson } from "./format.ts";

export const DEFAULT_FUNCTIONS_URL = "http://127.0.0.1:54321";

interface TickOptions {
  url?: string;
  key?: string;
  maxRuns?: string;
  json?: boolean;
}

const TickFlags = z.object({
  url: z.url({ protocol: /^https?$/, error: "must be an http(s) URL such as http://127.0.0.1:54321" }),
  maxRuns: intFlag(1, 100).optional(),
});

export function registerTick(program: Command): void {
  program.command("tick").description("invoke the orchestrator once (what pg_cron does every minute)")
    .option("--url <url>", `project URL (default: $SUPABASE_URL, else ${DEFAULT_FUNCTIONS_URL})`)
    .option("--key <key>", "secret / service_role key (prefer $SUPABASE_SERVICE_ROLE_KEY or $SUPABASE_SECRET_KEY)")
    .option("--max-runs <n>", "claim at most n runs in this tick (1-100; default: the orchestrator's)")
    .option("--json", "print the orchestrator's answer as JSON")
    .action(async (opts: TickOptions) => {
      const key = opts.key ?? process.env.SUPABASE_SERVICE_ROLE_KEY ?? process.env.SUPABASE_SECRET_KEY;
      registerSecret(key);
      const flags = parseFlags(TickFlags, { url: opts.url ?? process.env.SUPABASE_URL ?? DEFAULT_FUNCTIONS_URL, maxRuns: opts.maxRuns });
      if (!key) throw new UsageError("no key: pass --key or set SUPABASE_SERVICE_ROLE_KEY or SUPABASE_SECRET_KEY");
      const counts = await invokeOrchestrator(flags.url, key, flags.maxRuns);
      if (opts.json) return printJson(counts);
      console.log(`tick: requeued ${counts.requeued}, claimed ${counts.claimed} (single ${counts.single}, ` +
        `batch ${counts.batch}), dispatched ${counts.dispatched}, failed ${counts.failed}`);
    });
}
