/**
 * The wiring every worker function shares: its context, the Alpaca client
 * behind the shared request budget, and the queue. Only the kind differs.
 */
import { createAlpacaBarsClient, iterateBarPages } from "./alpaca/index.ts";
import { sleep } from "./concurrency.ts";
import { functionContext } from "./function-context.ts";
import { functionsInvoker } from "./invoke.ts";
import { IsolateBudget } from "./isolate-budget.ts";
import { sqlJobQueue } from "./job-queue.ts";
import { KINDS, type SliceKind } from "./kinds.ts";
import type { Platform } from "./platform.ts";
import { rateLimitRecorder, sharedRateBudget } from "./rate-budget.ts";
import type { WorkerDeps } from "./worker-handler.ts";

export function buildWorkerDeps(kind: SliceKind, platform: Platform): WorkerDeps {
  const { config, sql, log, redact } = functionContext(KINDS[kind].fn, platform);
  const client = createAlpacaBarsClient({
    baseUrl: config.alpacaBaseUrl,
    keyId: config.alpacaKeyId,
    secretKey: config.alpacaSecretKey,
    timeoutMs: config.alpacaTimeoutMs,
    acquire: sharedRateBudget(sql, config.alpacaRequestsPerMinute, config.alpacaBurst),
    onRateLimited: rateLimitRecorder(sql),
  });
  const budget = new IsolateBudget(
    { wallClockMs: config.workerWallClockMs, cpuMs: config.workerCpuLimitMs },
    { startedAt: platform.startedAt, now: () => Date.now(), cpuUsedMs: platform.cpuUsedMs },
  );
  platform.onBeforeUnload((reason) => {
    const work = budget.unload(reason ?? "unknown");
    platform.waitUntil?.(work);
    log.warn("isolate_unloading", { reason: reason ?? "unknown", outcome: "handing_back" });
  });
  // A run handed back is due at once, but pg_cron ticks only once a minute:
  // the isolate asks for a tick itself (at most one a second), and the
  // platform routes the re-dispatched slices to a fresher isolate.
  const invoke = functionsInvoker(config);
  let lastKick = 0;
  const kickOrchestrator = () => {
    const now = Date.now();
    if (now - lastKick < 1_000) return;
    lastKick = now;
    const work = invoke("orchestrator", {}).catch((err) =>
      log.warn("kick_failed", { outcome: "kick_failed", error: redact((err as Error).message) }));
    if (platform.waitUntil) platform.waitUntil(work);
  };
  return {
    budget,
    afterHandBack: kickOrchestrator,
    queue: sqlJobQueue(sql),
    log,
    redact,
    serviceKeys: config.serviceKeys,
    leaseSeconds: config.leaseSeconds,
    pages: (q) => iterateBarPages(client, q),
    sleep,
    now: () => Date.now(),
    waitUntil: platform.waitUntil,
  };
}
