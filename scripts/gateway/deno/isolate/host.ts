/**
 * One isolate: a Deno 2.1.4 process (the Deno the Edge Runtime is built on)
 * that serves a single function. The gateway starts it (deno/isolate.ts),
 * proxies requests to its loopback port and decides when it ends; this host
 * loads the function's `index.ts`, answers those requests with its handler,
 * reports background work as it changes and memory when asked (no timer: an
 * idle isolate uses no CPU), and dispatches `beforeunload` when told.
 *
 * Invariants:
 * - only the gateway's requests (they carry this isolate's token) reach the function;
 * - the function never sees the host's environment variables or proxy headers;
 * - on `drop` the isolate exits only when nothing is in flight and no
 *   background work is pending; otherwise it answers `busy` and carries on;
 * - when stdin closes (the gateway is gone, even by SIGKILL) it exits at once;
 *   SIGINT and SIGTERM are ignored.
 */
import { constantTimeEqual } from "../../../../supabase/functions/_shared/auth.ts";
import { ISOLATE_ENV, type IsolateCommand, type MemoryReport, PROXY_HEADERS } from "../../isolate-protocol.ts";
import { errorResponse, ERRORS } from "../../platform.ts";
import { describeError, log } from "../log.ts";
import { BackgroundTasks } from "./background-tasks.ts";
import { readCommands, report } from "./control.ts";
import { loadFunction } from "./load.ts";
import { installRuntime, type Registration } from "./runtime.ts";

function takeEnv(name: string): string {
  const value = Deno.env.get(name) ?? "";
  Deno.env.delete(name);
  return value;
}
const fn = takeEnv(ISOLATE_ENV.fn);
const isolateId = takeEnv(ISOLATE_ENV.id);
const entryUrl = takeEnv(ISOLATE_ENV.entry);
const token = takeEnv(ISOLATE_ENV.token);
const bootTimeoutMs = Number(takeEnv(ISOLATE_ENV.bootTimeoutMs)) || 30_000;
const gatewayUrl = new URL(takeEnv(ISOLATE_ENV.gatewayUrl) || "http://127.0.0.1:0");

// Ctrl-C (and `kill` of the process group) reaches the isolates too; the gateway decides
// when each ends, and SIGKILL still ends one from outside.
for (const signal of ["SIGINT", "SIGTERM"] as const) Deno.addSignalListener(signal, () => {});

const realServe = Deno.serve.bind(Deno) as typeof Deno.serve;
const tasks = new BackgroundTasks(fn, (pending) => report({ t: "tasks", pending }));
const shims = installRuntime(fn, tasks, {
  transport: "tcp",
  hostname: gatewayUrl.hostname.replace(/^\[|\]$/g, ""),
  port: Number(gatewayUrl.port) || 80,
});
/** The function's handler, once its module has loaded. */
const served: { registration?: Registration } = {};
let inFlight = 0;

function memory(): MemoryReport {
  const m = Deno.memoryUsage();
  return { heap: m.heapUsed, external: m.external, rss: m.rss };
}

function dispatchBeforeunload(reason: string): void {
  log("info", "beforeunload dispatched", { fn, isolate: isolateId, reason });
  globalThis.dispatchEvent(new CustomEvent("beforeunload", { cancelable: true, detail: { reason } }));
}

function onCommand(command: IsolateCommand): void {
  if (command.cmd === "report") return report({ t: "memory", memory: memory() });
  if (command.cmd === "beforeunload") return dispatchBeforeunload(command.reason);
  if (command.cmd === "drop") {
    if (inFlight > 0 || tasks.size > 0) return report({ t: "busy", pending: tasks.size, inFlight });
    dispatchBeforeunload("early_drop");
    shims.finishServers();
    Deno.exit(0);
  }
}

/** The request as the function would see it behind the gateway. */
function functionRequest(req: Request): Request {
  const hop = new URL(req.url);
  const headers = new Headers(req.headers);
  const origin = headers.get(PROXY_HEADERS.origin) ?? hop.origin;
  const acceptEncoding = headers.get(PROXY_HEADERS.acceptEncoding);
  for (const name of Object.values(PROXY_HEADERS)) headers.delete(name);
  if (acceptEncoding === null) headers.delete("accept-encoding");
  else headers.set("accept-encoding", acceptEncoding);
  headers.set("host", new URL(origin).host);
  return new Request(new URL(hop.pathname + hop.search, origin), {
    method: req.method,
    headers,
    body: req.body,
    redirect: req.redirect,
    // Never aborted: the hop's own signal also fires once the response is sent.
    signal: new AbortController().signal,
    duplex: "half",
  } as RequestInit);
}

async function handle(req: Request, info: Deno.ServeHandlerInfo): Promise<Response> {
  if (!constantTimeEqual(req.headers.get(PROXY_HEADERS.token) ?? "", token)) {
    return new Response("not the gateway", { status: 403 });
  }
  if (!served.registration) return errorResponse(ERRORS.bootError);
  const { handler, onError } = served.registration;
  inFlight++;
  try {
    let res: unknown;
    try {
      res = await handler(functionRequest(req), info);
    } catch (e) {
      if (!onError) throw e;
      log("error", "uncaught exception in function (answered by its onError)", { fn, error: describeError(e) });
      res = await onError(e);
    }
    if (res instanceof Response) return res;
    log("error", "function returned something that is not a Response", { fn });
    return errorResponse(ERRORS.workerError);
  } catch (e) {
    log("error", "uncaught exception in function", { fn, error: describeError(e) });
    return errorResponse(ERRORS.workerError);
  } finally {
    inFlight--;
  }
}

void readCommands(onCommand, () => Deno.exit(0));
const server = realServe({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, handle);
const loaded = await loadFunction(fn, entryUrl, bootTimeoutMs, shims);
if (!loaded.ok) {
  report({ t: "boot_error", error: loaded.error });
  Deno.exit(1);
}
served.registration = loaded.registration;
report({ t: "ready", port: server.addr.port, bootMs: Math.round(performance.now()), memory: memory() });
