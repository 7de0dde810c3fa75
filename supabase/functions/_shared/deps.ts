/**
 * Builds each function's dependencies from its environment, once per process
 * (isolate). Runtime-agnostic: the entry file passes in env access and the
 * Edge Runtime's waitUntil, so this file never touches Deno.*.
 */
import { createClient } from "@supabase/supabase-js";
import { createAlpacaBarsClient, iterateBarPages } from "./alpaca/index.ts";
import { sleep } from "./concurrency.ts";
import { inFlightTarget, readConfig, secretsOf, type FunctionConfig, type GetEnv } from "./config.ts";
import { connect, takeRateToken, type Sql } from "./db.ts";
import { json } from "./http.ts";
import { createLogger, maskSecrets, type Logger } from "./log.ts";
import type { WorkerFunction } from "./route.ts";
import type { Slice } from "./slice.ts";
import type { WorkerDeps } from "./worker-handler.ts";
import type { OrchestratorDeps } from "../orchestrator/handler.ts";

export interface Runtime {
  getEnv: GetEnv;
  waitUntil?: (work: Promise<unknown>) => void;
}

interface Common {
  config: FunctionConfig;
  sql: Sql;
  log: Logger;
  redact: (text: string) => string;
}

function common(fn: string, runtime: Runtime): Common {
  const config = readConfig(runtime.getEnv);
  const secrets = secretsOf(config);
  return {
    config,
    sql: connect(config.dbUrl, config.dbPoolMax),
    log: createLogger({ fn, level: config.logLevel, secrets }),
    redact: (text) => maskSecrets(text, secrets),
  };
}

/** Waits for a token of the shared Alpaca budget (kept in Postgres) before each request. */
export function sharedRateBudget(sql: Sql, perMinute: number, burst?: number, bucket = "alpaca"): () => Promise<void> {
  return async () => {
    for (;;) {
      const wait = await takeRateToken(sql, bucket, perMinute, burst);
      if (wait === 0) return;
      await sleep(wait);
    }
  };
}

export function workerDeps(fn: WorkerFunction, runtime: Runtime): WorkerDeps {
  const { config, sql, log, redact } = common(fn, runtime);
  const client = createAlpacaBarsClient({
    baseUrl: config.alpacaBaseUrl,
    keyId: config.alpacaKeyId,
    secretKey: config.alpacaSecretKey,
    timeoutMs: config.alpacaTimeoutMs,
    acquire: sharedRateBudget(sql, config.alpacaRequestsPerMinute, config.alpacaBurst),
  });
  return {
    sql,
    log,
    redact,
    serviceKeys: config.serviceKeys,
    leaseSeconds: config.leaseSeconds,
    pages: (q) => iterateBarPages(client, q),
    sleep,
    now: () => Date.now(),
    waitUntil: runtime.waitUntil,
  };
}

export function orchestratorDeps(runtime: Runtime): OrchestratorDeps {
  const { config, sql, log, redact } = common("orchestrator", runtime);
  const supabase = createClient(config.supabaseUrl, config.serviceKeys[0]!, {
    auth: { persistSession: false, autoRefreshToken: false, detectSessionInUrl: false },
  });
  return {
    sql,
    log,
    redact,
    serviceKeys: config.serviceKeys,
    leaseSeconds: config.leaseSeconds,
    maxRunsPerTick: config.maxRunsPerTick,
    maxInFlight: inFlightTarget(config),
    dispatchConcurrency: config.dispatchConcurrency,
    newWorkerId: () => `orchestrator:${crypto.randomUUID()}`,
    invoke: async (fn: WorkerFunction, slice: Slice) => {
      const { error } = await supabase.functions.invoke(fn, { body: slice, timeout: 30_000 });
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

/**
 * The request handler an entry file serves: dependencies are built on the first
 * request; a misconfigured function answers 500 naming what is missing.
 */
export function serve<D>(build: () => D, handle: (req: Request, deps: D) => Promise<Response>) {
  let deps: D | undefined;
  return async (req: Request): Promise<Response> => {
    try {
      deps ??= build();
    } catch (err) {
      return json(500, { error: "misconfigured", message: (err as Error).message });
    }
    return await handle(req, deps);
  };
}
