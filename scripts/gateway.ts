/**
 * Local stand-in for Supabase's functions platform (gateway, main worker and
 * the Edge Runtime's isolate supervisor), for machines without Docker: serves
 * `http://FUNCTIONS_HOST:FUNCTIONS_PORT/functions/v1/<name>` from each
 * `<FUNCTIONS_DIR>/<name>/index.ts`, loaded unchanged in isolates of its own
 * (Deno 2.1.4 processes, see scripts/gateway/README.md). Run with `npm run functions:serve`.
 *
 * Environment (all optional except a key while verification is on):
 *   FUNCTIONS_HOST (127.0.0.1), FUNCTIONS_PORT (54321; 0 = any free port),
 *   FUNCTIONS_DIR (supabase/functions), FUNCTIONS_CONFIG (<FUNCTIONS_DIR>/../config.toml,
 *   read for `[functions.<name>] verify_jwt`), FUNCTIONS_BOOT_TIMEOUT_MS (30000),
 *   GATEWAY_SHUTDOWN_TIMEOUT_MS (10000), GATEWAY_VERIFY_KEY (true),
 *   SUPABASE_SERVICE_ROLE_KEY / SUPABASE_SECRET_KEY / SUPABASE_SECRET_KEYS (accepted keys);
 *   isolate limits EDGE_WALL_CLOCK_MS (150000; alias FUNCTIONS_WALL_CLOCK_MS), EDGE_CPU_SOFT_MS (1000),
 *   EDGE_CPU_HARD_MS (2000), EDGE_MEMORY_MB (256), EDGE_BEFOREUNLOAD_RATIO (0.9);
 *   EDGE_DENO_BIN (node_modules/deno-edge/deno). Relative paths are resolved against the repo root.
 * For the functions it sets, when unset: SUPABASE_URL (this gateway's base URL)
 * and SUPABASE_DB_URL (from DATABASE_URL).
 */
import { fileURLToPath, pathToFileURL } from "node:url";
import { REPO_ROOT } from "./lib/local-host.ts";
import { READY_LINE_PREFIX } from "./gateway/platform.ts";
import { type GatewayConfig, loadConfig } from "./gateway/deno/config.ts";
import { listFunctions } from "./gateway/deno/functions.ts";
import { describeError, log } from "./gateway/deno/log.ts";
import { FunctionPool } from "./gateway/deno/pool.ts";
import { Gateway } from "./gateway/deno/server.ts";
import { drainIsolates } from "./gateway/deno/shutdown.ts";
import { Tally } from "./gateway/deno/tally.ts";

let config: GatewayConfig;
try {
  config = loadConfig();
} catch (e) {
  console.error((e as Error).message);
  Deno.exit(1);
}

const isolateRuntime = await runtimeVersion(config.isolateDeno);
const hostScript = fileURLToPath(new URL("./gateway/deno/isolate/host.ts", import.meta.url));
let baseUrl = "";
const total = new Tally();
const pools = new Map(listFunctions(config.functionsDir).map((name) => [
  name,
  new FunctionPool(name, config.limits, () => ({
    fn: name,
    entryUrl: pathToFileURL(`${config.functionsDir}/${name}/index.ts`).href,
    hostScript,
    denoBin: config.isolateDeno,
    cwd: REPO_ROOT,
    env: Deno.env.toObject(),
    gatewayUrl: baseUrl,
    bootTimeoutMs: config.bootTimeoutMs,
    memoryMb: config.limits.memoryMb,
  }), new Tally(total)),
]));
const gateway = new Gateway(config, pools, total);
gateway.isolateRuntime = isolateRuntime;

let server: Deno.HttpServer<Deno.NetAddr>;
try {
  server = Deno.serve({ hostname: config.hostname, port: config.port, onListen: () => {} }, gateway.handle);
} catch (e) {
  log("error", "cannot listen", { hostname: config.hostname, port: config.port, error: describeError(e) });
  Deno.exit(1);
}

const addr = server.addr;
const host = addr.hostname.includes(":") ? `[${addr.hostname}]` : addr.hostname;
baseUrl = `http://${host}:${addr.port}`;

// What Supabase injects into every function, where the caller did not set it.
if (!Deno.env.get("SUPABASE_URL")) Deno.env.set("SUPABASE_URL", baseUrl);
const dbUrl = Deno.env.get("DATABASE_URL");
if (!Deno.env.get("SUPABASE_DB_URL") && dbUrl) Deno.env.set("SUPABASE_DB_URL", dbUrl);

let shuttingDown = false;
async function shutdown(signal: Deno.Signal): Promise<void> {
  if (shuttingDown) {
    log("warn", "second signal during shutdown; exiting now", { signal });
    for (const pool of pools.values()) pool.killAll();
    Deno.exit(1);
  }
  shuttingDown = true;
  gateway.shuttingDown = true;
  const deadline = Date.now() + config.shutdownTimeoutMs;
  log("info", "shutdown requested", { signal, in_flight: gateway.inFlight, isolates: gateway.runningIsolates });
  const isolatesDone = await drainIsolates([...pools.values()], deadline);
  let timer: ReturnType<typeof setTimeout> | undefined;
  const requestsDone = await Promise.race([
    server.shutdown().then(() => true),
    new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), Math.max(0, deadline - Date.now())))),
  ]);
  clearTimeout(timer);
  log("info", "gateway stopped", {
    clean: isolatesDone && requestsDone,
    in_flight: gateway.inFlight,
    isolates: gateway.health().isolates,
  });
  Deno.exit(0);
}
for (const signal of ["SIGTERM", "SIGINT"] as const) Deno.addSignalListener(signal, () => void shutdown(signal));

log("info", "functions ready", {
  functions_dir: config.functionsDir,
  functions: [...pools.keys()],
  verify_key: config.verifyKey,
  isolate_runtime: isolateRuntime,
  limits: gateway.health().limits,
});
console.log(`${READY_LINE_PREFIX}${baseUrl}`);

/** "deno 2.1.4": the first words of `deno --version` of the isolates' binary; exits when it does not run. */
async function runtimeVersion(bin: string): Promise<string> {
  try {
    const out = await new Deno.Command(bin, { args: ["--version"], stdout: "piped", stderr: "null" }).output();
    const first = new TextDecoder().decode(out.stdout).split("\n")[0] ?? "";
    const version = first.split(" ").slice(0, 2).join(" ");
    if (!out.success || !version.startsWith("deno ")) throw new Error(`unexpected output ${JSON.stringify(first)}`);
    if (version !== "deno 2.1.4") log("warn", "the isolates do not run Deno 2.1.4, the Edge Runtime's", { isolate_runtime: version });
    return version;
  } catch (e) {
    console.error(`the isolates' Deno at ${bin} does not run: ${(e as Error).message}`);
    Deno.exit(1);
  }
}
