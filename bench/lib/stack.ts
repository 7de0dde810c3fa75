/**
 * The product as deployed, on one machine: a bench database, the Alpaca
 * simulator, and the real functions served by Deno through the local gateway.
 * The minimum of tests/helpers/stack.ts, without vitest.
 */
import { DEFAULT_SIM_KEY_ID, DEFAULT_SIM_SECRET, startAlpacaSim, type AlpacaSim, type SimOptions } from "../../scripts/alpaca-sim/index.ts";
import { findFreePort, startFunctionsGateway, type FunctionsGateway } from "../../scripts/gateway/spawn.ts";
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
  const port = await findFreePort();
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
  return {
    sim,
    gateway,
    async tick(maxRuns) {
      const res = await fetch(`${gateway.url}/functions/v1/orchestrator`, {
        method: "POST",
        headers: { "content-type": "application/json", apikey: SERVICE_KEY },
        body: JSON.stringify(maxRuns ? { maxRuns } : {}),
      });
      const text = await res.text();
      if (res.status !== 200) throw new Error(`tick failed: ${res.status} ${text.slice(0, 300)}`);
      return JSON.parse(text) as { claimed: number; dispatched: number; failed: number };
    },
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
 * Ticks the orchestrator until every run is finished, keeping about
 * `inFlight` runs running (a scheduler that ticks as often as needed).
 * Returns the wall time in ms from the first tick to the last run's end.
 */
export async function drainKeepingInFlight(
  stack: BenchStack,
  opts: { inFlight: number; pollMs?: number; timeoutMs: number; stopWhen?: () => boolean },
): Promise<{ ms: number; ticks: number; timedOut: boolean }> {
  const started = Date.now();
  let ticks = 0;
  for (;;) {
    const { queued, running } = await stack.open();
    if (queued + running === 0 || opts.stopWhen?.()) return { ms: Date.now() - started, ticks, timedOut: false };
    if (Date.now() - started > opts.timeoutMs) return { ms: Date.now() - started, ticks, timedOut: true };
    const room = opts.inFlight - running;
    if (queued > 0 && room > 0) {
      await stack.tick(Math.min(room, 100));
      ticks++;
    }
    await sleep(opts.pollMs ?? 100);
  }
}
