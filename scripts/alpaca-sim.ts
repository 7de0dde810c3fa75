/**
 * Standalone Alpaca simulator:
 *   npm run alpaca-sim -- --port 5999 [--key-id K --secret S] [--rate-limit 200]
 *                         [--time-scale 1] [--faults 429:0.05,500:0.05,slow:0.02]
 *                         [--trading-port 6000]
 * Prints its base URL (use it as ALPACA_DATA_URL and ALPACA_TRADING_URL) and runs until interrupted.
 */
import { Command } from "commander";
import { DEFAULT_SIM_KEY_ID, DEFAULT_SIM_SECRET, parseFaultSpec, startAlpacaSim } from "./alpaca-sim/index.ts";

const number = (name: string) => (value: string) => {
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0) throw new Error(`--${name} must be a non-negative number, got ${value}`);
  return n;
};

const program = new Command()
  .name("alpaca-sim")
  .description("Local simulator of Alpaca's historical stock bars API")
  .option("--port <port>", "port to listen on (0 = random)", number("port"), 5999)
  .option("--host <host>", "interface to bind", "127.0.0.1")
  .option("--key-id <id>", "accepted APCA-API-KEY-ID", DEFAULT_SIM_KEY_ID)
  .option("--secret <secret>", "accepted APCA-API-SECRET-KEY", DEFAULT_SIM_SECRET)
  .option("--plan <plan>", "plan of the key: basic | algo_trader_plus", "basic")
  .option("--rate-limit <perMinute>", "requests per minute (basic plan)", number("rate-limit"), 200)
  .option("--time-scale <x>", "rate-limit refill speed multiplier", number("time-scale"), 1)
  .option("--trading-port <port>", "serve the Trading API (/v2/assets, /v2/calendar) on its own port instead of --port", number("trading-port"))
  .option("--faults <spec>", "fault injection, e.g. 429:0.05,500:0.05,slow:0.02,truncated:0.03,reset:0.03,seed:7")
  .parse();

const opts = program.opts<{
  port: number;
  host: string;
  keyId: string;
  secret: string;
  plan: string;
  rateLimit: number;
  timeScale: number;
  faults?: string;
  tradingPort?: number;
}>();

if (opts.plan !== "basic" && opts.plan !== "algo_trader_plus") program.error(`--plan must be basic or algo_trader_plus`);

const sim = await startAlpacaSim({
  port: opts.port,
  host: opts.host,
  keys: [{ keyId: opts.keyId, secret: opts.secret, plan: opts.plan as "basic" | "algo_trader_plus" }],
  rateLimitPerMin: opts.rateLimit,
  timeScale: opts.timeScale,
  faults: opts.faults ? parseFaultSpec(opts.faults) : undefined,
  tradingPort: opts.tradingPort,
});

console.log(sim.url);
if (sim.tradingUrl !== sim.url) console.log(`Trading API: ${sim.tradingUrl}`);
const stop = async () => {
  await sim.close();
  process.exit(0);
};
process.on("SIGINT", stop);
process.on("SIGTERM", stop);
