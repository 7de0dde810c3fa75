/**
 * What a function's unchanged `index.ts` sees in place of the Edge Runtime,
 * inside its own isolate process: `Deno.serve` registers the handler with
 * the isolate's host instead of listening, `export default { fetch }` works
 * too, and `EdgeRuntime.waitUntil` tracks background work.
 *
 * Uncaught errors are logged and the isolate keeps serving (the Edge Runtime
 * would end the isolate; see the gateway README).
 */
import { describeError, log } from "../log.ts";
import type { BackgroundTasks } from "./background-tasks.ts";

export type FunctionHandler = (req: Request, info: Deno.ServeHandlerInfo) => Response | Promise<Response>;
export type ErrorHandler = (error: unknown) => Response | Promise<Response>;

export interface Registration {
  handler: FunctionHandler;
  onError?: ErrorHandler;
}

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

export interface RuntimeShims {
  /** The handler the module registered with `Deno.serve`, if it did. */
  registration(): Registration | undefined;
  /** Resolves `finished` of every server the function thinks it started. */
  finishServers(): void;
}

/**
 * Installs the function-facing globals. Call once, after the host has kept
 * the real `Deno.serve` for itself. `addr` is what `Deno.serve` reports: the
 * gateway's address, where the function is reachable.
 */
export function installRuntime(fn: string, tasks: BackgroundTasks, addr: Deno.NetAddr): RuntimeShims {
  let registration: Registration | undefined;
  const servers = new Set<() => void>();

  function shimServe(...args: unknown[]): Deno.HttpServer<Deno.NetAddr> {
    const { handler, options } = parseServeArgs(args);
    const onError = typeof options.onError === "function" ? options.onError as ErrorHandler : undefined;
    if (registration) log("warn", "Deno.serve called twice; the last handler wins", { fn });
    registration = { handler, onError };
    if (typeof options.onListen === "function") {
      const onListen = options.onListen as (a: Deno.NetAddr) => void;
      queueMicrotask(() => onListen({ ...addr }));
    }
    let resolveFinished!: () => void;
    const finished = new Promise<void>((resolve) => (resolveFinished = resolve));
    const finish = () => {
      servers.delete(finish);
      resolveFinished();
    };
    servers.add(finish);
    const stop = () => (finish(), Promise.resolve());
    const server = { addr: { ...addr }, finished, shutdown: stop, ref() {}, unref() {}, [Symbol.asyncDispose]: stop };
    return server as unknown as Deno.HttpServer<Deno.NetAddr>;
  }

  (globalThis as unknown as { EdgeRuntime: unknown }).EdgeRuntime = {
    waitUntil<T>(promise: Promise<T>): Promise<T> {
      tasks.add(promise);
      return promise;
    },
  };
  (Deno as unknown as { serve: unknown }).serve = shimServe;

  globalThis.addEventListener("unhandledrejection", (e) => {
    e.preventDefault();
    log("error", "unhandled promise rejection", { fn, error: describeError(e.reason) });
  });
  globalThis.addEventListener("error", (e) => {
    e.preventDefault();
    log("error", "uncaught exception", { fn, error: describeError(e.error) });
  });

  return {
    registration: () => registration,
    finishServers: () => {
      for (const finish of [...servers]) finish();
    },
  };
}
