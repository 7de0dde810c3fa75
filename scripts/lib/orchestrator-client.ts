/**
 * Invokes the orchestrator function over HTTP through supabase-js, the way
 * pg_cron's tick reaches it: `POST <project>/functions/v1/orchestrator` with
 * the secret key. One client for every caller that ticks by hand: the jobs
 * CLI, npm start's local scheduler and the benchmarks.
 */
import type { TickCounts } from "../../supabase/functions/orchestrator/handler.ts";

export type { TickCounts };

export interface OrchestratorClient {
  /** One tick; `maxRuns` bounds this tick's claims (absent: the orchestrator's own default). */
  tick(maxRuns?: number): Promise<TickCounts>;
}

export interface OrchestratorClientOptions {
  /** Abort a tick that has not answered in this many ms (default: wait as long as the connection does). */
  timeoutMs?: number;
}

/** Node 20 has no global WebSocket, which supabase-js demands at construction; no caller opens a channel. */
class NoRealtime {
  constructor() {
    throw new Error("the orchestrator client does not use realtime");
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

/** A client for one project URL and key; it is created once, so ticking every second stays cheap. */
export async function createOrchestratorClient(
  url: string,
  key: string,
  options: OrchestratorClientOptions = {},
): Promise<OrchestratorClient> {
  const { createClient, FunctionsFetchError, FunctionsHttpError, FunctionsRelayError } = await loadSupabase();
  const client = createClient(url, key, {
    auth: { persistSession: false, autoRefreshToken: false },
    realtime: { transport: NoRealtime as never },
  });
  return {
    async tick(maxRuns) {
      const { data, error } = await client.functions.invoke<TickCounts>("orchestrator", {
        body: maxRuns === undefined ? {} : { maxRuns },
        timeout: options.timeoutMs,
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
    },
  };
}

/** One tick with a one-off client (the jobs CLI's `tick`). */
export async function invokeOrchestrator(url: string, key: string, maxRuns?: number): Promise<TickCounts> {
  return await (await createOrchestratorClient(url, key)).tick(maxRuns);
}
