/**
 * The HTTP front of the simulator: routing, auth, rate limit, fault
 * injection, validation, then one lazily generated page. Stateless per
 * request apart from the rate-limit buckets and stats, so concurrent requests
 * are safe.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { FaultInjector, type FaultMode, type FaultSpec } from "./faults.ts";
import {
  nextRequestId,
  rateHeaders,
  send,
  sendJsonError,
  TOO_MANY_REQUESTS,
  UNAUTHORIZED_HTML,
} from "./http-replies.ts";
import { renderPage } from "./page.ts";
import { isParamError, parseBarsRequest, type Plan } from "./params.ts";
import { RateLimiter } from "./rate-limit.ts";
import { type Endpoint, record, type SimStats } from "./stats.ts";
import { encodePageToken } from "./tokens.ts";

export interface SimKey {
  keyId: string;
  secret: string;
  plan?: Plan;
}

export interface ServerState {
  keys: SimKey[];
  /** Requests per minute for basic keys; algo_trader_plus keys get 10,000. */
  rateLimitPerMin: number;
  limiter: RateLimiter;
  faults: FaultInjector | undefined;
  now: () => Date;
  stats: SimStats;
  pendingTimers: Set<ReturnType<typeof setTimeout>>;
}

export function setFaults(state: ServerState, spec: FaultSpec | undefined): void {
  state.faults = spec ? new FaultInjector(spec) : undefined;
}

function route(pathname: string): { endpoint: Endpoint; pathSymbol?: string } | undefined {
  if (pathname === "/v2/stocks/bars") return { endpoint: "multi" };
  const m = /^\/v2\/stocks\/([^/]+)\/bars$/.exec(pathname);
  if (!m) return undefined;
  try {
    return { endpoint: "single", pathSymbol: decodeURIComponent(m[1]!) };
  } catch {
    return { endpoint: "single", pathSymbol: m[1]! };
  }
}

/** APCA-API-KEY-ID + APCA-API-SECRET-KEY headers, or HTTP Basic key:secret. */
function authenticate(req: IncomingMessage, keys: SimKey[]): SimKey | undefined {
  let id = req.headers["apca-api-key-id"];
  let secret = req.headers["apca-api-secret-key"];
  const basic = /^Basic (.+)$/i.exec(req.headers.authorization ?? "");
  if (basic) [id, secret] = Buffer.from(basic[1]!, "base64").toString().split(":");
  return keys.find((k) => k.keyId === id && k.secret === secret);
}

export function createSimServer(state: ServerState): Server {
  return createServer((req, res) => {
    try {
      handle(state, req, res);
    } catch (e) {
      sendJsonError(res, 500, `internal server error: ${(e as Error).message}`);
    }
  });
}

function handle(state: ServerState, req: IncomingMessage, res: ServerResponse): void {
  const url = new URL(req.url ?? "/", "http://sim.local");
  const r = route(url.pathname);
  if (!r || req.method !== "GET") return sendJsonError(res, 404, "Not Found");
  const symbols = r.pathSymbol !== undefined ? [r.pathSymbol] : (url.searchParams.get("symbols") ?? "").split(",");
  const rec = { endpoint: r.endpoint, symbols, bars: 0, pageToken: url.searchParams.get("page_token") ?? undefined };

  const key = authenticate(req, state.keys);
  if (!key) {
    record(state.stats, { ...rec, status: 401 });
    return send(res, 401, UNAUTHORIZED_HTML, {}, "text/html");
  }
  const plan = key.plan ?? "basic";
  const decision = state.limiter.take(key.keyId, plan === "algo_trader_plus" ? 10_000 : state.rateLimitPerMin);
  if (!decision.allowed) {
    record(state.stats, { ...rec, status: 429 });
    return send(res, 429, TOO_MANY_REQUESTS);
  }
  const fault = state.faults?.draw(rec.pageToken !== undefined);
  const headers = { ...rateHeaders(decision), "X-Request-ID": nextRequestId() };
  const finish = (status: number, bars = 0) => record(state.stats, { ...rec, status, bars, fault });

  switch (fault) {
    case "rate429":
      finish(429);
      return send(res, 429, TOO_MANY_REQUESTS);
    case "error500":
      finish(500);
      return sendJsonError(res, 500, "internal server error", headers);
    case "reset":
      finish(0);
      req.socket.destroy();
      return;
    case "slow": {
      const timer = setTimeout(() => {
        state.pendingTimers.delete(timer);
        respond(state, url, r.pathSymbol, plan, fault, headers, res, finish);
      }, state.faults!.slowMs);
      state.pendingTimers.add(timer);
      return;
    }
  }
  respond(state, url, r.pathSymbol, plan, fault, headers, res, finish);
}

function respond(
  state: ServerState,
  url: URL,
  pathSymbol: string | undefined,
  plan: Plan,
  fault: FaultMode | undefined,
  headers: Record<string, string>,
  res: ServerResponse,
  finish: (status: number, bars?: number) => void,
): void {
  const parsed = parseBarsRequest(url.searchParams, pathSymbol, plan, state.now().getTime());
  if (isParamError(parsed)) {
    finish(parsed.status);
    return sendJsonError(res, parsed.status, parsed.message, headers, parsed.code);
  }
  const endpoint = pathSymbol === undefined ? "multi" : "single";
  const overrideToken = (next: string | null, bars: number) => {
    if (fault === "repeatToken") return parsed.rawPageToken ?? next;
    if (fault === "emptyLastPage" && next === null && bars > 0) {
      const { symbols, tf, sort, startMs, endMs } = parsed.walk;
      return encodePageToken(symbols[symbols.length - 1]!, tf.letter, sort === "asc" ? endMs + 1 : startMs - 1);
    }
    return next;
  };
  if (fault === "truncatedJson" || fault === "invalidJson") {
    const chunks: string[] = [];
    const page = renderPage(parsed, endpoint, (c) => chunks.push(c), overrideToken);
    finish(200, page.bars);
    const body = chunks.join("");
    return send(res, 200, fault === "truncatedJson"
      ? body.slice(0, Math.floor(body.length / 2))
      : `<html><body><h1>502 Bad Gateway</h1></body></html>${body.slice(0, 40)}`, headers);
  }
  // Streamed (chunked): the page is written as it is generated.
  res.writeHead(200, { "Content-Type": "application/json; charset=utf-8", ...headers });
  const page = renderPage(parsed, endpoint, (c) => res.write(c), overrideToken);
  res.end();
  finish(200, page.bars);
}
