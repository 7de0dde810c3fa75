/**
 * One validated configuration per function process, read once. A missing or
 * malformed variable fails with one message listing every problem; secret
 * values never appear in it.
 */
import { z } from "zod";
import { ALPACA_DATA_HOST } from "./alpaca/config.ts";
import { pagesPerIsolate } from "./isolate-budget.ts";

/** Hosted Edge Runtime: an isolate is terminated at 2 s of CPU. */
const DEFAULT_WORKER_CPU_LIMIT_MS = 2_000;
const DEFAULT_DB_POOL_MAX = 3;
/**
 * The smallest Supabase computes (Nano, Micro) allow 60 database connections
 * and 200 pooler clients. The backfill takes a third of the 60 by default and
 * leaves the rest to PostgREST, Auth, Realtime, Studio, pg_cron and pg_net,
 * and the project's other clients; a bigger compute can give it more.
 */
export const DEFAULT_DB_CONNECTION_BUDGET = 20;

export type GetEnv = (name: string) => string | undefined;

const positiveInt = (fallback: number) => z.coerce.number().int().positive().default(fallback);

const Env = z.object({
  dbUrl: z.string({ error: "SUPABASE_DB_URL (or DATABASE_URL) is required" }).regex(/^postgres(ql)?:\/\//, {
    error: "SUPABASE_DB_URL must be a postgres:// connection string",
  }),
  supabaseUrl: z.url({ error: "SUPABASE_URL must be a URL" }),
  serviceKeys: z.array(z.string().min(1)).min(1, {
    error: "SUPABASE_SERVICE_ROLE_KEY or SUPABASE_SECRET_KEY(S) is required",
  }),
  alpacaKeyId: z.string({ error: "APCA_API_KEY_ID is required" }).min(1),
  alpacaSecretKey: z.string({ error: "APCA_API_SECRET_KEY is required" }).min(1),
  alpacaBaseUrl: z.url({ error: "ALPACA_DATA_URL must be a URL" }).default(ALPACA_DATA_HOST),
  alpacaRequestsPerMinute: positiveInt(200),
  /** Bucket capacity; defaults to one minute's worth, like Alpaca's own bucket. */
  alpacaBurst: z.coerce.number().int().positive().optional(),
  alpacaTimeoutMs: positiveInt(30_000),
  leaseSeconds: positiveInt(180),
  /** The plan's isolate wall clock (free 150 s, paid 400 s): slices hand their runs back before it. */
  workerWallClockMs: positiveInt(150_000),
  /** The isolate CPU limit at which the runtime terminates it (hosted: 2 s). */
  workerCpuLimitMs: positiveInt(DEFAULT_WORKER_CPU_LIMIT_MS),
  maxRunsPerTick: positiveInt(30),
  /** Runs allowed in flight at once; default: what one minute of the Alpaca budget can serve. */
  maxInFlight: z.coerce.number().int().positive().optional(),
  dispatchConcurrency: positiveInt(4),
  dbPoolMax: positiveInt(DEFAULT_DB_POOL_MAX),
  /** Connections the functions together may hold to the database (or its pooler): see inFlightTarget. */
  dbConnectionBudget: positiveInt(DEFAULT_DB_CONNECTION_BUDGET),
  logLevel: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
});

export type FunctionConfig = z.infer<typeof Env>;

/** Secret keys: the legacy service_role key and the new `sb_secret_` keys (a JSON dictionary). */
function serviceKeys(getEnv: GetEnv): string[] {
  const keys = [getEnv("SUPABASE_SERVICE_ROLE_KEY"), getEnv("SUPABASE_SECRET_KEY")];
  const dict = getEnv("SUPABASE_SECRET_KEYS");
  if (dict) {
    try {
      keys.push(...Object.values(JSON.parse(dict) as Record<string, string>));
    } catch {
      throw new Error("configuration: SUPABASE_SECRET_KEYS must be a JSON object of key names to keys");
    }
  }
  return keys.filter((k): k is string => typeof k === "string" && k.length > 0);
}

export function readConfig(getEnv: GetEnv): FunctionConfig {
  const blankAsUnset = (name: string) => {
    const v = getEnv(name);
    return v === undefined || v.trim() === "" ? undefined : v;
  };
  const parsed = Env.safeParse({
    dbUrl: blankAsUnset("SUPABASE_DB_URL") ?? blankAsUnset("DATABASE_URL"),
    supabaseUrl: blankAsUnset("SUPABASE_URL"),
    serviceKeys: serviceKeys(getEnv),
    alpacaKeyId: blankAsUnset("APCA_API_KEY_ID"),
    alpacaSecretKey: blankAsUnset("APCA_API_SECRET_KEY"),
    alpacaBaseUrl: blankAsUnset("ALPACA_DATA_URL"),
    alpacaRequestsPerMinute: blankAsUnset("ALPACA_REQUESTS_PER_MINUTE"),
    alpacaBurst: blankAsUnset("ALPACA_BURST"),
    alpacaTimeoutMs: blankAsUnset("ALPACA_TIMEOUT_MS"),
    leaseSeconds: blankAsUnset("JOB_LEASE_SECONDS"),
    workerWallClockMs: blankAsUnset("WORKER_WALL_CLOCK_MS"),
    workerCpuLimitMs: blankAsUnset("WORKER_CPU_LIMIT_MS"),
    maxRunsPerTick: blankAsUnset("ORCHESTRATOR_MAX_RUNS"),
    maxInFlight: blankAsUnset("ORCHESTRATOR_MAX_IN_FLIGHT"),
    dbConnectionBudget: blankAsUnset("DB_CONNECTION_BUDGET"),
    dispatchConcurrency: blankAsUnset("ORCHESTRATOR_CONCURRENCY"),
    dbPoolMax: blankAsUnset("DB_POOL_MAX"),
    logLevel: blankAsUnset("LOG_LEVEL"),
  });
  if (!parsed.success) {
    // Messages are ours (above), never the offending values.
    const problems = parsed.error.issues.map((i) => `  - ${i.message}`);
    throw new Error(`configuration is incomplete:\n${problems.join("\n")}`);
  }
  return parsed.data;
}

/**
 * One run in flight per this many requests of the minute's budget. Slices are
 * longer than that now (about 50 pages), but a run also waits on the
 * database, hand-backs and isolate boots, so more runs than the budget
 * strictly needs keep the bucket spent; the isolate's CPU and the connection
 * budget cap them anyway.
 */
export const REQUESTS_PER_SLICE = 10;

/**
 * Runs worth having in flight: enough to spend one minute of the shared Alpaca
 * budget (more would only wait for tokens, holding leases), no more than one
 * worker isolate can take a page each for within its CPU limit (more would
 * only be handed back unserved by an isolate with no budget left), and never
 * more than the connection budget allows, whatever ORCHESTRATOR_MAX_IN_FLIGHT
 * says. A run holds at most one connection at a time (its queries are
 * sequential) and a worker isolate opens a pooled connection only for a query
 * that finds none free, so the workers hold at most one connection per run in
 * flight; the orchestrator's own pool (DB_POOL_MAX) comes off the budget first.
 * A tick claims only the room left, so a full budget slows the backfill down
 * and fails nothing.
 */
export function inFlightTarget(
  config: Pick<FunctionConfig, "maxInFlight" | "alpacaRequestsPerMinute"> &
    Partial<Pick<FunctionConfig, "dbConnectionBudget" | "dbPoolMax">> & { workerCpuLimitMs?: number },
): number {
  const forBudget = Math.ceil(config.alpacaRequestsPerMinute / REQUESTS_PER_SLICE);
  const forIsolate = pagesPerIsolate(config.workerCpuLimitMs ?? DEFAULT_WORKER_CPU_LIMIT_MS);
  const forConnections = connectionsForRuns(config);
  return Math.max(1, Math.min(config.maxInFlight ?? Math.min(forBudget, forIsolate), forConnections));
}

/** Connections of the budget left for runs once the orchestrator's pool is counted. */
export function connectionsForRuns(config: Partial<Pick<FunctionConfig, "dbConnectionBudget" | "dbPoolMax">>): number {
  const budget = config.dbConnectionBudget ?? DEFAULT_DB_CONNECTION_BUDGET;
  return Math.max(1, budget - (config.dbPoolMax ?? DEFAULT_DB_POOL_MAX));
}

/** The values no log line or error may contain. */
export function secretsOf(config: FunctionConfig): string[] {
  const secrets = [config.alpacaSecretKey, config.alpacaKeyId, ...config.serviceKeys];
  const password = safeUrlPassword(config.dbUrl);
  if (password) secrets.push(password);
  return secrets.filter((s) => s.length >= 4);
}

function safeUrlPassword(url: string): string | undefined {
  try {
    return decodeURIComponent(new URL(url).password) || undefined;
  } catch {
    return undefined;
  }
}
