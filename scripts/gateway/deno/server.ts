/**
 * Request handling, in the order Supabase's local main worker applies it:
 * route → method → function lookup (404) → key check (401, not for OPTIONS) →
 * the function's isolate (503 when it cannot boot, 546 when a limit cuts the
 * request off). While the gateway shuts down, functions answer 503.
 */
import { ALLOWED_METHODS, checkKey, errorResponse, ERRORS, type GatewayHealth, routeOf } from "../platform.ts";
import { type GatewayConfig, shouldVerify } from "./config.ts";
import { describeError, log } from "./log.ts";
import type { FunctionPool } from "./pool.ts";
import { invoke } from "./proxy.ts";
import type { Tally } from "./tally.ts";

export class Gateway {
  #inFlight = 0;
  shuttingDown = false;
  isolateRuntime = "deno (unknown version)";

  constructor(
    private readonly config: GatewayConfig,
    readonly pools: Map<string, FunctionPool>,
    private readonly total: Tally,
  ) {}

  get inFlight(): number {
    return this.#inFlight;
  }

  get runningIsolates(): number {
    let n = 0;
    for (const pool of this.pools.values()) n += pool.members().length;
    return n;
  }

  handle = async (req: Request): Promise<Response> => {
    const started = performance.now();
    const url = new URL(req.url);
    const route = routeOf(url.pathname);
    this.#inFlight++;
    let res: Response;
    try {
      res = await this.#dispatch(req, url, route);
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

  async #dispatch(req: Request, url: URL, route: ReturnType<typeof routeOf>): Promise<Response> {
    if (route.kind === "health") return Response.json(this.health());
    if (route.kind === "none") return errorResponse(ERRORS.noRoute);
    if (!ALLOWED_METHODS.includes(req.method)) {
      return errorResponse(ERRORS.methodNotAllowed, { allow: ALLOWED_METHODS.join(", ") });
    }
    const pool = this.pools.get(route.name);
    if (!pool) return errorResponse(ERRORS.notFound);
    if (req.method !== "OPTIONS" && shouldVerify(this.config, pool.name)) {
      const denied = checkKey(req.headers, this.config.acceptedKeys);
      if (denied) return errorResponse(denied);
    }
    if (this.shuttingDown) return errorResponse(ERRORS.shuttingDown);
    return await invoke(pool, req, route.functionPath + url.search, url.origin);
  }

  health(): GatewayHealth {
    const { limits } = this.config;
    return {
      status: this.shuttingDown ? "shutting_down" : "ok",
      isolate_runtime: this.isolateRuntime,
      limits: {
        wall_clock_ms: limits.wallClockMs,
        cpu_soft_ms: limits.cpuSoftMs,
        cpu_hard_ms: limits.cpuHardMs,
        memory_mb: limits.memoryMb,
        beforeunload_ratio: limits.beforeunloadRatio,
      },
      functions: [...this.pools.values()].map((p) => ({
        name: p.name,
        status: p.status,
        ...(p.status === "boot_error" && p.error ? { error: p.error } : {}),
        isolates: p.counts,
        tally: p.tally.snapshot(),
      })),
      isolates: { ...this.total.snapshot(), running: this.runningIsolates },
    };
  }
}
