/**
 * The wiring every worker function shares: its context, the Alpaca client
 * behind the shared request budget, and the queue. Only the kind differs.
 */
import { createAlpacaBarsClient, iterateBarPages } from "./alpaca/index.ts";
import { sleep } from "./concurrency.ts";
import { functionContext } from "./function-context.ts";
import { sqlJobQueue } from "./job-queue.ts";
import { KINDS, type SliceKind } from "./kinds.ts";
import type { Platform } from "./platform.ts";
import { sharedRateBudget } from "./rate-budget.ts";
import type { WorkerDeps } from "./worker-handler.ts";

export function buildWorkerDeps(kind: SliceKind, platform: Platform): WorkerDeps {
  const { config, sql, log, redact } = functionContext(KINDS[kind].fn, platform);
  const client = createAlpacaBarsClient({
    baseUrl: config.alpacaBaseUrl,
    keyId: config.alpacaKeyId,
    secretKey: config.alpacaSecretKey,
    timeoutMs: config.alpacaTimeoutMs,
    acquire: sharedRateBudget(sql, config.alpacaRequestsPerMinute, config.alpacaBurst),
  });
  return {
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
