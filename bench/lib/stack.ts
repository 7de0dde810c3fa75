/**
 * The product as deployed, on one machine: a bench database, the Alpaca
 * simulator, and the real functions served by Deno through the local gateway.
 * The minimum of tests/helpers/stack.ts, without vitest.
 */
import { DEFAULT_SIM_KEY_ID, DEFAULT_SIM_SECRET, startAlpacaSim, type AlpacaSim, type SimOptions } from "../../scripts/alpaca-sim/index.ts";
import { startFunctionsGateway, type FunctionsGateway } from "../../scripts/gateway/spawn.ts";
import { freePort } from "../../scripts/lib/local-host.ts";
import { createOrchestratorClient } from "../../scripts/lib/orchestrator-client.ts";
import type { BenchDatabase } from "./db.ts";
import { sleep } from "./stats.ts";

export const SERVICE_KEY = "bench-service-key-0123456789";

export interface BenchStack {
  sim: AlpacaSim;
  gateway: FunctionsGateway;
  tick(maxRuns?: number): Promise<{ claimed: number; dispatched: number; failed: number }>;
  /** Open runs by status. */
  open(): Promise<{ queued: number; running: number }>;
  stop(): Promise<void>;
}

export async function startBenchStack(
  db: BenchDatabase,
  opts: { sim?: SimOptions; env?: Record<string, string> } = {},
): Promise<BenchStack> {
  const sim = await startAlpacaSim(opts.sim);
  const port = await freePort();
  const env: Record<string, string> = {
    SUPABASE_DB_URL: db.url,
    SUPABASE_SERVICE_ROLE_KEY: SERVICE_KEY,
    SUPABASE_URL: `http://127.0.0.1:${port}`,
    APCA_API_KEY_ID: DEFAULT_SIM_KEY_ID,
    APCA_API_SECRET_KEY: DEFAULT_SIM_SECRET,
    ALPACA_DATA_URL: sim.url,
    LOG_LEVEL: "info",
    ...opts.env,
  };
  let gateway: FunctionsGateway;
  try {
    gateway = await startFunctionsGateway({ env, port, maxLogLines: 2000 });
  } catch (err) {
    await sim.close();
    throw err;
  }
  const orchestrator = await createOrchestratorClient(gateway.url, SERVICE_KEY);
  return {
    sim,
    gateway,
    tick: (maxRuns) => orchestrator.tick(maxRuns || undefined),
    async open() {
      const rows = await db.sql<{ status: string; n: number }[]>`
        select status, count(*)::int as n from public.job_runs where status in ('queued', 'running') group by status`;
      const get = (s: string) => rows.find((r) => r.status === s)?.n ?? 0;
      return { queued: get("queued"), running: get("running") };
    },
    async stop() {
      await gateway.stop({ timeoutMs: 5000 }).catch(() => {});
      await sim.close();
    },
  };
}

/**
 * Ticks the orchestrator until every run is finished (a scheduler that ticks
 * as often as needed). How many runs are in flight is the orchestrator's
 * decision (ORCHESTRATOR_MAX_IN_FLIGHT), exactly as in production.
 */
export async function drainByTicking(
  stack: BenchStack,
  opts: { pollMs?: number; timeoutMs: number; stopWhen?: () => boolean },
): Promise<{ ms: number; ticks: number; timedOut: boolean }> {
  const started = Date.now();
  let ticks = 0;
  for (;;) {
    const { queued, running } = await stack.open();
    if (queued + running === 0 || opts.stopWhen?.()) return { ms: Date.now() - started, ticks, timedOut: false };
    if (Date.now() - started > opts.timeoutMs) return { ms: Date.now() - started, ticks, timedOut: true };
    if (queued > 0) {
      await stack.tick(100);
      ticks++;
    }
    await sleep(opts.pollMs ?? 100);
  }
}
