/**
 * `jobs tick`: invokes the orchestrator once by hand through supabase-js, the
 * way pg_cron's tick does, locally or against a hosted project.
 */
import type { Command } from "commander";
import { z } from "zod";
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

export type { TickCounts } from "../../supabase/functions/orchestrator/handler.ts";
import type { TickCounts } from "../../supabase/functions/orchestrator/handler.ts";

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

/** Node 20 has no global WebSocket, which supabase-js demands at construction; the CLI never opens a channel. */
class NoRealtime {
  constructor() {
    throw new Error("the jobs CLI does not use realtime");
  }
}

/** supabase-js warns on import that Node 20 is deprecated; the project pins Node 20 (package.json engines). */
async function loadSupabase() {
  const warn = console.warn;
  console.warn = (...args: unknown[]) => {
    if (!String(args[0]).includes("Node.js 20 and below are deprecated")) warn(...args);
  };
  try {
    return await import("@supabase/supabase-js");
  } finally {
    console.warn = warn;
  }
}

export async function invokeOrchestrator(url: string, key: string, maxRuns?: number): Promise<TickCounts> {
  const { createClient, FunctionsFetchError, FunctionsHttpError, FunctionsRelayError } = await loadSupabase();
  const client = createClient(url, key, {
    auth: { persistSession: false, autoRefreshToken: false },
    realtime: { transport: NoRealtime as never },
  });
  const { data, error } = await client.functions.invoke<TickCounts>("orchestrator", {
    body: maxRuns === undefined ? {} : { maxRuns },
  });
  if (error instanceof FunctionsHttpError) {
    const res = error.context as Response;
    const text = await res.text().catch(() => "");
    let detail = text;
    try {
      const body = JSON.parse(text) as { error?: string; message?: string };
      detail = body.message ?? body.error ?? text;
    } catch {
      // not JSON: show the text
    }
    const hint = res.status === 401 ? " (is the key the project's secret / service_role key?)" : "";
    throw new Error(`the orchestrator answered ${res.status}: ${detail.slice(0, 500)}${hint}`);
  }
  if (error instanceof FunctionsFetchError || error instanceof FunctionsRelayError) {
    const context = error.context as { message?: string; cause?: { code?: string; message?: string } } | undefined;
    const cause = context?.cause?.code ?? context?.cause?.message ?? context?.message ?? error.message;
    throw new Error(`cannot reach ${url}/functions/v1/orchestrator: ${cause}`);
  }
  if (error) throw error;
  if (!data || typeof data !== "object") throw new Error(`unexpected answer from the orchestrator: ${JSON.stringify(data)}`);
  return data;
}
