/**
 * Where the workers get bars: real Alpaca when keys are set, otherwise the
 * simulator (deterministic data, Alpaca's basic-plan rate limit), run in a
 * worker thread and restarted on the same port if it dies.
 */
import { once } from "node:events";
import { Worker } from "node:worker_threads";
import { DEFAULT_SIM_KEY_ID, DEFAULT_SIM_SECRET, type SimOptions } from "../alpaca-sim/index.ts";
import { ALPACA_DATA_HOST } from "../../supabase/functions/_shared/alpaca/config.ts";
import { ALPACA_TRADING_HOST } from "../../supabase/functions/_shared/alpaca/trading.ts";
import type { StartEnv } from "./options.ts";

export interface AlpacaSource {
  simulated: boolean;
  url: string;
  /** The functions' environment for Alpaca. */
  env: Record<string, string>;
  close(): Promise<void>;
}

const MAX_SIM_RESTARTS = 3;

/** The worker runs TypeScript: it registers tsx's loader (npm start runs under tsx) before importing its entry. */
function simWorker(options: SimOptions): Worker {
  const entry = new URL("./alpaca-sim-worker.ts", import.meta.url).href;
  const source = `import { register } from ${JSON.stringify(import.meta.resolve("tsx/esm/api"))};
register();
await import(${JSON.stringify(entry)});`;
  return new Worker(source, { eval: true, workerData: options });
}

async function started(worker: Worker): Promise<{ url: string; port: number }> {
  const [message] = (await Promise.race([
    once(worker, "message"),
    once(worker, "error").then(([e]) => Promise.reject(e)),
    once(worker, "exit").then(([code]) => Promise.reject(new Error(`the simulator exited during start-up (code ${code})`))),
  ])) as [{ url: string; port: number }];
  return message;
}

async function startSimulator(rateLimitPerMin: number, say: (text: string) => void): Promise<{ url: string; close(): Promise<void> }> {
  let closing = false;
  let restarts = 0;
  let worker = simWorker({ rateLimitPerMin });
  const { url, port } = await started(worker);
  const watch = (w: Worker) => {
    w.once("exit", (code) => {
      if (closing || restarts >= MAX_SIM_RESTARTS) return;
      restarts++;
      say(`Alpaca simulator exited unexpectedly (code ${code}); restarting (${restarts}/${MAX_SIM_RESTARTS})`);
      worker = simWorker({ rateLimitPerMin, port });
      started(worker).then(() => watch(worker), (e) => say(`Alpaca simulator did not come back: ${(e as Error).message}`));
    });
  };
  watch(worker);
  return {
    url,
    async close() {
      closing = true;
      const closed = once(worker, "message");
      worker.postMessage("close");
      await Promise.race([closed, new Promise((r) => setTimeout(r, 5000))]);
      await worker.terminate();
    },
  };
}

export async function startAlpaca(env: StartEnv, say: (text: string) => void): Promise<AlpacaSource> {
  const requestsPerMinute = String(env.ALPACA_REQUESTS_PER_MINUTE);
  if (env.APCA_API_KEY_ID && env.APCA_API_SECRET_KEY) {
    const url = env.ALPACA_DATA_URL ?? ALPACA_DATA_HOST;
    return {
      simulated: false,
      url,
      env: {
        APCA_API_KEY_ID: env.APCA_API_KEY_ID,
        APCA_API_SECRET_KEY: env.APCA_API_SECRET_KEY,
        ALPACA_DATA_URL: url,
        ALPACA_TRADING_URL: env.ALPACA_TRADING_URL ?? ALPACA_TRADING_HOST,
        ALPACA_REQUESTS_PER_MINUTE: requestsPerMinute,
      },
      close: async () => {},
    };
  }
  const sim = await startSimulator(env.ALPACA_REQUESTS_PER_MINUTE, say);
  return {
    simulated: true,
    url: sim.url,
    env: {
      APCA_API_KEY_ID: DEFAULT_SIM_KEY_ID,
      APCA_API_SECRET_KEY: DEFAULT_SIM_SECRET,
      ALPACA_DATA_URL: sim.url,
      // The simulator serves the Trading API's assets and calendar on the same port.
      ALPACA_TRADING_URL: sim.url,
      ALPACA_REQUESTS_PER_MINUTE: requestsPerMinute,
    },
    close: () => sim.close(),
  };
}
