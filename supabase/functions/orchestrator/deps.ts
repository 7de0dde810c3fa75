/**
 * The orchestrator's wiring: its context, the queue, and worker invocation
 * through supabase-js (the platform's own functions client, so the gateway
 * and its key check are on the path exactly as in production).
 */
import { createClient } from "@supabase/supabase-js";
import { inFlightTarget } from "../_shared/config.ts";
import { functionContext } from "../_shared/function-context.ts";
import { sqlJobQueue } from "../_shared/job-queue.ts";
import type { WorkerFunction } from "../_shared/kinds.ts";
import type { Platform } from "../_shared/platform.ts";
import type { Slice } from "../_shared/slice.ts";
import type { OrchestratorDeps } from "./handler.ts";

const INVOKE_TIMEOUT_MS = 30_000;

export function buildDeps(platform: Platform): OrchestratorDeps {
  const { config, sql, log, redact } = functionContext("orchestrator", platform);
  const supabase = createClient(config.supabaseUrl, config.serviceKeys[0]!, {
    auth: { persistSession: false, autoRefreshToken: false, detectSessionInUrl: false },
  });
  return {
    queue: sqlJobQueue(sql),
    log,
    redact,
    serviceKeys: config.serviceKeys,
    leaseSeconds: config.leaseSeconds,
    maxRunsPerTick: config.maxRunsPerTick,
    maxInFlight: inFlightTarget(config),
    dispatchConcurrency: config.dispatchConcurrency,
    newWorkerId: () => `orchestrator:${crypto.randomUUID()}`,
    invoke: async (fn: WorkerFunction, slice: Slice) => {
      const { error } = await supabase.functions.invoke(fn, { body: slice, timeout: INVOKE_TIMEOUT_MS });
      if (error) throw new Error(await describeInvokeError(error));
    },
  };
}

async function describeInvokeError(error: { message: string; context?: unknown }): Promise<string> {
  const response = error.context instanceof Response ? error.context : undefined;
  if (!response) return error.message;
  const text = await response.text().catch(() => "");
  return `HTTP ${response.status}${text ? `: ${text.slice(0, 300)}` : ""}`;
}
