/**
 * Brings up what the backfill needs, one line per component as it comes up:
 * Postgres (+ migrations), Alpaca (simulator or real), the functions gateway.
 * Each component is registered with the lifecycle as soon as it is up, so an
 * interruption at any point stops exactly what was started.
 */
import { randomBytes } from "node:crypto";
import { mkdir } from "node:fs/promises";
import { join, relative } from "node:path";
import { migrateDatabase } from "../db/migrate.ts";
import { startAlpaca } from "./alpaca.ts";
import { startDatabase, type Database } from "./database.ts";
import { startSupervisedGateway, type SupervisedGateway } from "./gateway-supervisor.ts";
import { orchestratorInFlightCap } from "./in-flight-cap.ts";
import type { Lifecycle } from "./lifecycle.ts";
import type { StartOptions } from "./options.ts";
import { hidePasswords, passwordOf, type Output } from "./output.ts";

export interface Stack {
  db: Database;
  gateway: SupervisedGateway;
  serviceKey: string;
}

/** Function settings passed through from npm start's environment when set. */
const PASSED_THROUGH = [
  "ALPACA_BURST",
  "ALPACA_TIMEOUT_MS",
  "ORCHESTRATOR_CONCURRENCY",
  "ORCHESTRATOR_MAX_RUNS",
  "ORCHESTRATOR_MAX_IN_FLIGHT",
  "DB_POOL_MAX",
  "FUNCTIONS_WALL_CLOCK_MS",
  "FUNCTIONS_BOOT_TIMEOUT_MS",
  // The local platform's isolate limits, and the workers' view of them.
  "EDGE_WALL_CLOCK_MS",
  "EDGE_CPU_SOFT_MS",
  "EDGE_CPU_HARD_MS",
  "EDGE_MEMORY_MB",
  "EDGE_BEFOREUNLOAD_RATIO",
  "WORKER_WALL_CLOCK_MS",
  "WORKER_CPU_LIMIT_MS",
  "JOB_LEASE_SECONDS",
];

/** A path relative to the working directory when it is inside it, else absolute. */
function shown(path: string): string {
  const rel = relative(process.cwd(), path);
  return rel.startsWith("..") ? path : rel;
}

/** Returns undefined when interrupted part-way (what was started is registered for stopping). */
export async function bringUpStack(opts: StartOptions, out: Output, life: Lifecycle): Promise<Stack | undefined> {
  const say = (text: string) => out.line(text);
  const env = opts.env;
  out.addSecret(env.APCA_API_SECRET_KEY);
  out.addSecret(env.APCA_API_KEY_ID);
  // The password is masked wherever it shows up, unless it is part of the URL's visible text
  // (a password "postgres" would otherwise mask the scheme and user too).
  const dbPassword = env.DATABASE_URL ? passwordOf(env.DATABASE_URL) : undefined;
  if (dbPassword && !hidePasswords(env.DATABASE_URL!).includes(dbPassword)) out.addSecret(dbPassword);

  const shuttingDown = () => life.signal !== undefined;
  const db = await startDatabase({
    databaseUrl: env.DATABASE_URL,
    dataDir: opts.dataDir,
    embeddedPort: env.EMBEDDED_PG_PORT,
    say,
    shuttingDown,
  });
  life.defer("Postgres", () => db.stop());
  say(db.embedded
    ? `Postgres:          ${db.shownUrl} (embedded Postgres 17, data in ${shown(join(opts.dataDir, "pg"))})`
    : `Postgres:          ${db.shownUrl} (DATABASE_URL)`);
  if (life.signal) return undefined;

  const started = Date.now();
  const { bootstrapped } = await migrateDatabase(db.url);
  say(`migrations:        applied with the Supabase CLI in ${((Date.now() - started) / 1000).toFixed(1)}s` +
    (bootstrapped && !db.embedded ? " (plain Postgres: Supabase's roles created first)" : ""));
  if (life.signal) return undefined;

  const alpaca = await startAlpaca(env, say);
  life.defer("the Alpaca simulator", () => alpaca.close());
  say(alpaca.simulated
    ? `Alpaca simulator:  ${alpaca.url} (deterministic data, ${env.ALPACA_REQUESTS_PER_MINUTE} requests/min)`
    : `Alpaca:            ${alpaca.url} (your API keys, ${env.ALPACA_REQUESTS_PER_MINUTE} requests/min budget)`);
  if (life.signal) return undefined;

  // A fresh local key per run: the gateway and the functions accept only it.
  const serviceKey = `local-${randomBytes(24).toString("base64url")}`;
  out.addSecret(serviceKey);
  const passthrough = Object.fromEntries(PASSED_THROUGH.flatMap((k) => (process.env[k] ? [[k, process.env[k]!]] : [])));
  const logFile = join(opts.dataDir, "functions.log");
  await mkdir(opts.dataDir, { recursive: true });
  const gateway = await startSupervisedGateway({
    env: {
      ...passthrough,
      ...alpaca.env,
      SUPABASE_DB_URL: db.url,
      SUPABASE_SERVICE_ROLE_KEY: serviceKey,
      JOB_LEASE_SECONDS: String(env.JOB_LEASE_SECONDS),
      LOG_LEVEL: env.LOG_LEVEL,
      ORCHESTRATOR_MAX_IN_FLIGHT: orchestratorInFlightCap(
        opts.maxRunsInFlight,
        env.ALPACA_REQUESTS_PER_MINUTE,
        process.env.ORCHESTRATOR_MAX_IN_FLIGHT,
      ),
    },
    port: env.FUNCTIONS_PORT ?? 0,
    logFile,
    say,
    shuttingDown,
  });
  life.defer("the functions gateway", () => gateway.stop());
  life.onForce(() => gateway.kill());
  say(`functions gateway: ${gateway.url}/functions/v1/ (pid ${gateway.pid()}, logs in ${shown(logFile)})`);
  if (life.signal) return undefined;
  return { db, gateway, serviceKey };
}
