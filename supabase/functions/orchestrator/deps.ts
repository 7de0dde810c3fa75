/** The orchestrator's wiring: its context, the queue, and invoking the worker functions. */
import { inFlightTarget } from "../_shared/config.ts";
import { functionContext } from "../_shared/function-context.ts";
import { functionsInvoker } from "../_shared/invoke.ts";
import { sqlJobQueue } from "../_shared/job-queue.ts";
import type { Platform } from "../_shared/platform.ts";
import type { OrchestratorDeps } from "./handler.ts";

export function buildDeps(platform: Platform): OrchestratorDeps {
  const { config, sql, log, redact } = functionContext("orchestrator", platform);
  const invoke = functionsInvoker(config);
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
    invoke: (fn, slice) => invoke(fn, slice),
  };
}
