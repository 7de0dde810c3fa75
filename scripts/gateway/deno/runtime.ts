/**
 * What a function's unchanged `index.ts` sees in place of Supabase's Edge
 * Runtime: `Deno.serve` registers the handler with the gateway instead of
 * listening, and `EdgeRuntime.waitUntil` tracks background work.
 *
 * All functions share this one isolate (Supabase gives each its own), so a
 * module's state is shared between requests, as in a warm per_worker isolate,
 * and `_shared/` modules are evaluated once for all functions.
 */
import { AsyncLocalStorage } from "node:async_hooks";
import { pathToFileURL } from "node:url";
import { FUNCTION_NAME } from "../platform.ts";
import type { BackgroundTasks } from "./background-tasks.ts";
import { describeError, log } from "./log.ts";

export type FunctionHandler = (req: Request, info: Deno.ServeHandlerInfo) => Response | Promise<Response>;
type ErrorHandler = (error: unknown) => Response | Promise<Response>;

export type FunctionEntry =
  | { name: string; status: "ready"; handler: FunctionHandler; onError?: ErrorHandler }
  | { name: string; status: "boot_error"; error: string };

/** The function whose code is running (request handling, module evaluation, background work). */
export const currentFunction = new AsyncLocalStorage<string>();

interface Registration {
  handler: FunctionHandler;
  onError?: ErrorHandler;
}

interface LoadingState {
  name: string;
  registration?: Registration;
}

let loading: LoadingState | null = null;
let serveAddr: Deno.NetAddr = { transport: "tcp", hostname: "127.0.0.1", port: 0 };
const shimServers = new Set<() => void>();

interface ServeOptionsLike {
  handler?: unknown;
  onError?: unknown;
  onListen?: unknown;
}

function parseServeArgs(args: unknown[]): { handler: FunctionHandler; options: ServeOptionsLike } {
  const [a, b] = args;
  if (typeof a === "function") return { handler: a as FunctionHandler, options: {} };
  if (a && typeof a === "object") {
    const options = a as ServeOptionsLike;
    if (typeof b === "function") return { handler: b as FunctionHandler, options };
    if (typeof options.handler === "function") return { handler: options.handler as FunctionHandler, options };
  }
  throw new TypeError("Deno.serve: a handler function is required");
}

/** Stands in for `Deno.serve` inside functions: same call forms, an HttpServer-shaped result, no socket. */
function shimServe(...args: unknown[]): Deno.HttpServer<Deno.NetAddr> {
  const { handler, options } = parseServeArgs(args);
  const onError = typeof options.onError === "function" ? options.onError as ErrorHandler : undefined;
  if (loading) {
    if (loading.registration) log("warn", "Deno.serve called twice; the last handler wins", { fn: loading.name });
    loading.registration = { handler, onError };
  } else {
    log("warn", "Deno.serve called outside a function's module evaluation; ignored", {
      fn: currentFunction.getStore() ?? null,
    });
  }
  const addr = { ...serveAddr };
  if (typeof options.onListen === "function") {
    const onListen = options.onListen as (a: Deno.NetAddr) => void;
    queueMicrotask(() => onListen(addr));
  }
  let resolveFinished!: () => void;
  const finished = new Promise<void>((resolve) => (resolveFinished = resolve));
  const finish = () => {
    shimServers.delete(finish);
    resolveFinished();
  };
  shimServers.add(finish);
  const server = {
    addr,
    finished,
    shutdown: () => {
      finish();
      return Promise.resolve();
    },
    ref() {},
    unref() {},
    [Symbol.asyncDispose]: () => {
      finish();
      return Promise.resolve();
    },
  };
  return server as unknown as Deno.HttpServer<Deno.NetAddr>;
}

export interface EdgeRuntimeShim {
  waitUntil<T>(promise: Promise<T>): Promise<T>;
}

/**
 * Installs the function-facing globals. Call once, after the gateway has kept
 * the real `Deno.serve` for itself.
 */
export function installRuntime(tasks: BackgroundTasks, functionsDir: string): void {
  const dirUrl = pathToFileURL(functionsDir).href.replace(/\/?$/, "/");
  // Global error events run outside any request's context: name the function from the stack.
  const fnOf = (e: unknown): string | null => {
    const stack = e instanceof Error ? e.stack ?? "" : "";
    const i = stack.indexOf(dirUrl);
    if (i < 0) return null;
    const name = stack.slice(i + dirUrl.length).split("/")[0] ?? "";
    return FUNCTION_NAME.test(name) ? name : null;
  };
  const g = globalThis as unknown as { EdgeRuntime?: EdgeRuntimeShim };
  g.EdgeRuntime = {
    waitUntil<T>(promise: Promise<T>): Promise<T> {
      tasks.add(promise, currentFunction.getStore() ?? null);
      return promise;
    },
  };
  (Deno as unknown as { serve: unknown }).serve = shimServe;

  // A function's stray rejection or timer exception must not take the gateway down
  // (on Supabase it would end that function's isolate only).
  globalThis.addEventListener("unhandledrejection", (e) => {
    e.preventDefault();
    log("error", "unhandled promise rejection", {
      fn: fnOf(e.reason),
      error: describeError(e.reason),
    });
  });
  globalThis.addEventListener("error", (e) => {
    e.preventDefault();
    log("error", "uncaught exception", { fn: fnOf(e.error), error: describeError(e.error) });
  });
}

export function setServeAddr(addr: Deno.NetAddr): void {
  serveAddr = addr;
}

/** Resolves `finished` of every server the functions think they started. */
export function finishShimServers(): void {
  for (const finish of [...shimServers]) finish();
}

/** Function names: directories with an `index.ts`, not starting with `_` or `.`. */
export function listFunctions(dir: string): string[] {
  const names: string[] = [];
  for (const entry of Deno.readDirSync(dir)) {
    if (!entry.isDirectory || !FUNCTION_NAME.test(entry.name)) continue;
    try {
      if (Deno.statSync(`${dir}/${entry.name}/index.ts`).isFile) names.push(entry.name);
    } catch {
      // no index.ts: not a function
    }
  }
  return names.sort();
}

async function loadOne(dir: string, name: string, bootTimeoutMs: number): Promise<FunctionEntry> {
  const state: LoadingState = { name };
  loading = state;
  const started = performance.now();
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    const url = pathToFileURL(`${dir}/${name}/index.ts`).href;
    const imported = currentFunction.run(name, () => import(url)) as Promise<Record<string, unknown>>;
    const timeout = new Promise<"timeout">((resolve) => (timer = setTimeout(() => resolve("timeout"), bootTimeoutMs)));
    const outcome = await Promise.race([imported.then((mod) => ({ mod })), timeout]);
    let registration = state.registration;
    if (outcome === "timeout") {
      imported.catch((e) =>
        log("error", "function module failed after its boot timeout", { fn: name, error: describeError(e) })
      );
      if (!registration) throw new Error(`module evaluation did not finish within ${bootTimeoutMs} ms`);
      log("warn", "module still evaluating after the boot timeout; serving the handler it registered", { fn: name });
    } else if (!registration) {
      // Edge Runtime also serves `export default { fetch }`.
      const def = outcome.mod.default as { fetch?: unknown } | undefined;
      if (def && typeof def.fetch === "function") {
        const fetchFn = def.fetch as FunctionHandler;
        registration = { handler: (req, info) => fetchFn.call(def, req, info) };
      }
    }
    if (!registration) throw new Error("index.ts neither called Deno.serve nor exported default { fetch }");
    log("info", "function loaded", { fn: name, duration_ms: Math.round(performance.now() - started) });
    return { name, status: "ready", ...registration };
  } catch (e) {
    log("error", "function failed to boot", { fn: name, error: describeError(e) });
    const first = (e instanceof Error ? `${e.name}: ${e.message}` : String(e)).split("\n")[0] ?? "";
    return { name, status: "boot_error", error: first };
  } finally {
    clearTimeout(timer);
    loading = null;
  }
}

/** Imports every function's `index.ts` in turn (one at a time, so `Deno.serve` calls are attributed). */
export async function loadFunctions(dir: string, bootTimeoutMs: number): Promise<Map<string, FunctionEntry>> {
  const out = new Map<string, FunctionEntry>();
  for (const name of listFunctions(dir)) out.set(name, await loadOne(dir, name, bootTimeoutMs));
  return out;
}
