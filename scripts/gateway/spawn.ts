/**
 * Starts the Deno functions gateway (scripts/gateway.ts) as a child
 * process, for tests, `npm start` and benchmarks. The gateway starts the
 * functions' isolates as its own children; they end with it.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { resolve } from "node:path";
import { createInterface } from "node:readline";
import { freePort, REPO_ROOT } from "../lib/local-host.ts";
import { type GatewayHealth, READY_LINE_PREFIX } from "./platform.ts";

export type { GatewayHealth };

const DENO_BIN = resolve(REPO_ROOT, "node_modules/.bin/deno");
const GATEWAY_SCRIPT = resolve(REPO_ROOT, "scripts/gateway.ts");

export interface StartFunctionsGatewayOptions {
  /** Merged onto a minimal environment (PATH, HOME, DENO_DIR if set, NO_COLOR); the keys, DB URL, etc. */
  env?: Record<string, string | undefined>;
  /** 0 = a free port chosen here. Default: env.FUNCTIONS_PORT, else 54321. */
  port?: number;
  /** Default: env.FUNCTIONS_DIR, else the gateway's default (supabase/functions). Relative to the repo root. */
  functionsDir?: string;
  /** Every stdout/stderr line of the gateway (and of the functions), as it arrives. */
  onLog?: (line: string, stream: "stdout" | "stderr") => void;
  /** How long to wait for the ready line. Default 60 s. */
  readyTimeoutMs?: number;
  /** Lines kept for logs(); the oldest are dropped beyond it. Default 100,000. */
  maxLogLines?: number;
}

export interface GatewayExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface FunctionsGateway {
  /** Base URL, e.g. http://127.0.0.1:54321 (functions are under `${url}/functions/v1/<name>`); use as SUPABASE_URL. */
  url: string;
  port: number;
  process: ChildProcess;
  /** Resolves when the process has exited. */
  exited: Promise<GatewayExit>;
  /** SIGTERM (graceful: in-flight requests and waitUntil work finish), then SIGKILL after `timeoutMs` (default 15 s). */
  stop(options?: { timeoutMs?: number }): Promise<void>;
  kill(signal: NodeJS.Signals): void;
  /** Lines captured so far, stdout and stderr interleaved in arrival order (the isolates' output included). */
  logs(): string[];
  /** `/_internal/health`: per-function isolate counts and the tally of isolates started, retired and ended by reason. */
  stats(): Promise<GatewayHealth>;
}

function minimalEnv(): Record<string, string> {
  const env: Record<string, string> = { NO_COLOR: "1" };
  for (const name of ["PATH", "HOME", "DENO_DIR"]) {
    const value = process.env[name];
    if (value !== undefined) env[name] = value;
  }
  return env;
}

export async function startFunctionsGateway(options: StartFunctionsGatewayOptions = {}): Promise<FunctionsGateway> {
  const { onLog, readyTimeoutMs = 60_000, maxLogLines = 100_000 } = options;
  const env: Record<string, string> = minimalEnv();
  for (const [k, v] of Object.entries(options.env ?? {})) if (v !== undefined) env[k] = v;

  const requestedPort = options.port ?? (env.FUNCTIONS_PORT !== undefined ? Number(env.FUNCTIONS_PORT) : 54321);
  const host = env.FUNCTIONS_HOST ?? "127.0.0.1";
  const port = requestedPort === 0 ? await freePort(host === "0.0.0.0" ? "127.0.0.1" : host) : requestedPort;
  env.FUNCTIONS_PORT = String(port);
  if (options.functionsDir !== undefined) env.FUNCTIONS_DIR = resolve(REPO_ROOT, options.functionsDir);

  const child = spawn(DENO_BIN, ["run", "--allow-all", GATEWAY_SCRIPT], {
    cwd: REPO_ROOT,
    env,
    stdio: ["ignore", "pipe", "pipe"],
  });

  const lines: string[] = [];
  const exited = new Promise<GatewayExit>((done) => {
    child.once("exit", (code, signal) => done({ code, signal }));
  });
  // Never leave a gateway behind when the Node process ends.
  const killOnExit = () => child.kill("SIGKILL");
  process.once("exit", killOnExit);
  void exited.then(() => process.off("exit", killOnExit));

  let onReady: ((url: string) => void) | undefined;
  const ready = new Promise<string>((done) => (onReady = done));
  const capture = (stream: "stdout" | "stderr") => (line: string) => {
    lines.push(line);
    if (lines.length > maxLogLines) lines.splice(0, lines.length - maxLogLines);
    onLog?.(line, stream);
    if (stream === "stdout" && line.startsWith(READY_LINE_PREFIX)) {
      onReady?.(line.slice(READY_LINE_PREFIX.length).trim());
    }
  };
  createInterface({ input: child.stdout! }).on("line", capture("stdout"));
  createInterface({ input: child.stderr! }).on("line", capture("stderr"));

  const failure = (why: string) =>
    new Error(`functions gateway ${why}\nlast log lines:\n  ${lines.slice(-30).join("\n  ") || "(none)"}`);

  let url: string;
  try {
    url = await new Promise<string>((done, fail) => {
      const timer = setTimeout(() => fail(failure(`was not ready within ${readyTimeoutMs} ms`)), readyTimeoutMs);
      const settle = () => clearTimeout(timer);
      void ready.then((u) => (settle(), done(u)));
      void exited.then((
        { code, signal },
      ) => (settle(), fail(failure(`exited (code ${code}, signal ${signal}) before it was ready`))));
      child.once("error", (e) => (settle(), fail(failure(`could not be started: ${e.message}`))));
    });
  } catch (e) {
    child.kill("SIGKILL");
    throw e;
  }

  const isRunning = () => child.exitCode === null && child.signalCode === null;
  return {
    url,
    port: Number(new URL(url).port),
    process: child,
    exited,
    async stop({ timeoutMs = 15_000 } = {}) {
      if (!isRunning()) return;
      child.kill("SIGTERM");
      let t: NodeJS.Timeout | undefined;
      const graceful = await Promise.race([
        exited.then(() => true),
        new Promise<false>((done) => (t = setTimeout(() => done(false), timeoutMs))),
      ]);
      clearTimeout(t);
      if (!graceful) {
        child.kill("SIGKILL");
        await exited;
      }
    },
    kill(signal) {
      child.kill(signal);
    },
    logs: () => [...lines],
    async stats() {
      const res = await fetch(`${url}/_internal/health`);
      if (!res.ok) throw new Error(`functions gateway health: HTTP ${res.status}`);
      return await res.json() as GatewayHealth;
    },
  };
}
