/**
 * Request handling, in the order Supabase's local main worker applies it:
 * route → method → function lookup (404) → key check (401, not for OPTIONS) →
 * boot state (503) → the function, under a wall-clock limit (546).
 */
import { ALLOWED_METHODS, checkKey, errorResponse, ERRORS, routeOf } from "../platform.ts";
import { type GatewayConfig, shouldVerify } from "./config.ts";
import { describeError, log } from "./log.ts";
import { currentFunction, type FunctionEntry } from "./runtime.ts";

export class Gateway {
  #inFlight = 0;

  constructor(
    private readonly config: GatewayConfig,
    private readonly functions: Promise<Map<string, FunctionEntry>>,
  ) {}

  get inFlight(): number {
    return this.#inFlight;
  }

  handle = async (req: Request, info: Deno.ServeHandlerInfo): Promise<Response> => {
    const started = performance.now();
    const url = new URL(req.url);
    const route = routeOf(url.pathname);
    this.#inFlight++;
    let res: Response;
    try {
      res = await this.#dispatch(req, info, url, route);
    } catch (e) {
      log("error", "gateway failure", { error: describeError(e) });
      res = errorResponse(ERRORS.workerError);
    } finally {
      this.#inFlight--;
    }
    const fields: Record<string, unknown> = {
      fn: route.kind === "function" ? route.name : null,
      method: req.method,
      path: url.pathname,
      status: res.status,
      duration_ms: Math.round(performance.now() - started),
    };
    const code = res.headers.get("sb-error-code");
    if (code) fields.error_code = code;
    log("info", "request", fields);
    return res;
  };

  async #dispatch(
    req: Request,
    info: Deno.ServeHandlerInfo,
    url: URL,
    route: ReturnType<typeof routeOf>,
  ): Promise<Response> {
    if (route.kind === "health") return this.#health();
    if (route.kind === "none") return errorResponse(ERRORS.noRoute);
    if (!ALLOWED_METHODS.includes(req.method)) {
      return errorResponse(ERRORS.methodNotAllowed, { allow: ALLOWED_METHODS.join(", ") });
    }
    const entry = (await this.functions).get(route.name);
    if (!entry) return errorResponse(ERRORS.notFound);
    if (req.method !== "OPTIONS" && shouldVerify(this.config, entry.name)) {
      const denied = checkKey(req.headers, this.config.acceptedKeys);
      if (denied) return errorResponse(denied);
    }
    if (entry.status === "boot_error") return errorResponse(ERRORS.bootError);
    return await this.#invoke(entry, req, info, new URL(route.functionPath + url.search, url.origin));
  }

  async #health(): Promise<Response> {
    const functions = [...(await this.functions).values()].map((f) =>
      f.status === "ready" ? { name: f.name, status: f.status } : { name: f.name, status: f.status, error: f.error }
    );
    return Response.json({ status: "ok", functions });
  }

  async #invoke(
    entry: Extract<FunctionEntry, { status: "ready" }>,
    req: Request,
    info: Deno.ServeHandlerInfo,
    fnUrl: URL,
  ): Promise<Response> {
    const limit = new AbortController();
    const fnReq = new Request(fnUrl, {
      method: req.method,
      headers: req.headers,
      body: req.body,
      redirect: req.redirect,
      // Only the wall-clock limit aborts it. Deno 2.9 (like 2.1) also aborts the incoming
      // request's signal once a response is sent, so it is not forwarded.
      signal: limit.signal,
      duplex: "half",
    } as RequestInit);

    const run = currentFunction.run(entry.name, async () => {
      try {
        return await entry.handler(fnReq, info);
      } catch (e) {
        if (!entry.onError) throw e;
        log("error", "uncaught exception in function (answered by its onError)", {
          fn: entry.name,
          error: describeError(e),
        });
        return await entry.onError(e);
      }
    });

    let timer: ReturnType<typeof setTimeout> | undefined;
    const wallClock = new Promise<"limit">((
      resolve,
    ) => (timer = setTimeout(() => resolve("limit"), this.config.wallClockMs)));
    try {
      const out = await Promise.race([run, wallClock]);
      if (out === "limit") {
        limit.abort(new DOMException("wall clock limit reached", "TimeoutError"));
        log("warn", "wall clock limit reached", { fn: entry.name, limit_ms: this.config.wallClockMs });
        run.catch((e) =>
          log("error", "function failed after its wall-clock limit", { fn: entry.name, error: describeError(e) })
        );
        return errorResponse(ERRORS.workerLimit);
      }
      if (!(out instanceof Response)) {
        log("error", "function returned something that is not a Response", { fn: entry.name });
        return errorResponse(ERRORS.workerError);
      }
      return out;
    } catch (e) {
      log("error", "uncaught exception in function", { fn: entry.name, error: describeError(e) });
      return errorResponse(ERRORS.workerError);
    } finally {
      clearTimeout(timer);
    }
  }
}
