/**
 * Local stand-in for Supabase's functions gateway + main worker, for machines
 * without Docker: serves `http://FUNCTIONS_HOST:FUNCTIONS_PORT/functions/v1/<name>`
 * from each `<FUNCTIONS_DIR>/<name>/index.ts`, loaded unchanged (the file
 * `supabase functions deploy` ships). Run with `npm run functions:serve`.
 *
 * Environment (all optional except a key while verification is on):
 *   FUNCTIONS_HOST (127.0.0.1), FUNCTIONS_PORT (54321; 0 = any free port),
 *   FUNCTIONS_DIR (supabase/functions), FUNCTIONS_CONFIG (<FUNCTIONS_DIR>/../config.toml,
 *   read for `[functions.<name>] verify_jwt`), FUNCTIONS_WALL_CLOCK_MS (150000),
 *   FUNCTIONS_BOOT_TIMEOUT_MS (30000), GATEWAY_SHUTDOWN_TIMEOUT_MS (10000),
 *   GATEWAY_VERIFY_KEY (true), SUPABASE_SERVICE_ROLE_KEY / SUPABASE_SECRET_KEY /
 *   SUPABASE_SECRET_KEYS (accepted keys). Relative paths are resolved against the repo root.
 * For the functions it sets, when unset: SUPABASE_URL (this gateway's base URL)
 * and SUPABASE_DB_URL (from DATABASE_URL).
 */
import { READY_LINE_PREFIX } from "./gateway/platform.ts";
import { type GatewayConfig, loadConfig } from "./gateway/deno/config.ts";
import { describeError, log } from "./gateway/deno/log.ts";
import { BackgroundTasks } from "./gateway/deno/background-tasks.ts";
import { finishShimServers, type FunctionEntry, installRuntime, loadFunctions, setServeAddr } from "./gateway/deno/runtime.ts";
import { Gateway } from "./gateway/deno/server.ts";

// Kept before the functions' shim replaces it.
const realServe = Deno.serve.bind(Deno) as typeof Deno.serve;

let config: GatewayConfig;
try {
  config = loadConfig();
} catch (e) {
  console.error((e as Error).message);
  Deno.exit(1);
}

const tasks = new BackgroundTasks(config.wallClockMs);
installRuntime(tasks, config.functionsDir);

let resolveFunctions!: (m: Map<string, FunctionEntry>) => void;
const functions = new Promise<Map<string, FunctionEntry>>((resolve) => (resolveFunctions = resolve));
const gateway = new Gateway(config, functions);

let server: Deno.HttpServer<Deno.NetAddr>;
try {
  server = realServe({ hostname: config.hostname, port: config.port, onListen: () => {} }, gateway.handle);
} catch (e) {
  log("error", "cannot listen", { hostname: config.hostname, port: config.port, error: describeError(e) });
  Deno.exit(1);
}

const addr = server.addr;
const host = addr.hostname.includes(":") ? `[${addr.hostname}]` : addr.hostname;
const baseUrl = `http://${host}:${addr.port}`;
setServeAddr(addr);

// What Supabase injects into every function, where the caller did not set it.
if (!Deno.env.get("SUPABASE_URL")) Deno.env.set("SUPABASE_URL", baseUrl);
const dbUrl = Deno.env.get("DATABASE_URL");
if (!Deno.env.get("SUPABASE_DB_URL") && dbUrl) Deno.env.set("SUPABASE_DB_URL", dbUrl);

let shuttingDown = false;
async function shutdown(signal: Deno.Signal): Promise<void> {
  if (shuttingDown) {
    log("warn", "second signal during shutdown; exiting now", { signal });
    Deno.exit(1);
  }
  shuttingDown = true;
  const deadline = Date.now() + config.shutdownTimeoutMs;
  log("info", "shutdown requested", { signal, in_flight: gateway.inFlight, background_tasks: tasks.size });
  try {
    // Edge Runtime's "save your progress" hook (background-tasks docs).
    dispatchEvent(new CustomEvent("beforeunload", { detail: { reason: "TerminationRequested" } }));
  } catch (e) {
    log("error", "beforeunload listener failed", { error: describeError(e) });
  }
  let timer: ReturnType<typeof setTimeout> | undefined;
  const requestsDone = await Promise.race([
    server.shutdown().then(() => true),
    new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), Math.max(0, deadline - Date.now())))),
  ]);
  clearTimeout(timer);
  const tasksDone = await tasks.drain(deadline);
  finishShimServers();
  log("info", "gateway stopped", {
    clean: requestsDone && tasksDone,
    in_flight: gateway.inFlight,
    background_tasks: tasks.size,
  });
  Deno.exit(0);
}
for (const signal of ["SIGTERM", "SIGINT"] as const) Deno.addSignalListener(signal, () => void shutdown(signal));

const loaded = await loadFunctions(config.functionsDir, config.bootTimeoutMs);
resolveFunctions(loaded);
log("info", "functions ready", {
  functions_dir: config.functionsDir,
  functions: [...loaded.values()].map((f) => ({ name: f.name, status: f.status })),
  verify_key: config.verifyKey,
  wall_clock_ms: config.wallClockMs,
});
console.log(`${READY_LINE_PREFIX}${baseUrl}`);
