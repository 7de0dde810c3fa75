/**
 * The HTTP front of the simulator: request-line length (nginx), routing,
 * auth, rate limit, fault injection, validation, then one lazily generated
 * page, gzipped when the client accepts it. Stateless per request apart from
 * the rate-limit buckets and stats, so concurrent requests are safe.
 * Longer than most files: the request pipeline (auth, URL length, rate limit, faults, routing) reads top to bottom in one place.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { FaultInjector, type FaultMode, type FaultSpec } from "./faults.ts";
import {
  acceptsGzip,
  FORBIDDEN_HTML,
  nextRequestId,
  openStream,
  rateHeaders,
  send,
  sendJsonError,
  TOO_MANY_REQUESTS,
  UNAUTHORIZED_HTML,
  URI_TOO_LARGE_HTML,
} from "./http-replies.ts";
import { renderPage } from "./page.ts";
import { type PageVariation, pageShape, requestKey, tokenPastTheEnd } from "./paging.ts";
import { isParamError, parseBarsRequest, type Plan } from "./params.ts";
import type { RateDecision, RateLimiter } from "./rate-limit.ts";
import { type Endpoint, record, type SimStats } from "./stats.ts";
import { handleTrading, TRADING_ROUTES, type TradingState } from "./trading.ts";

/**
 * nginx's default `large_client_header_buffers 4 8k`: "A request line cannot
 * exceed the size of one buffer, or the 414 (Request-URI Too Large) error is
 * returned to the client" (https://nginx.org/en/docs/http/ngx_http_core_module.html#large_client_header_buffers).
 * Alpaca's data host answers from nginx (its 401/403 pages) and users of the
 * official C# SDK got "Request-URI Too Large" for long symbol lists
 * (alpacahq/alpaca-trade-api-csharp issues "URI Request too large",
 * "Request URI 414 \"Too Large\" for API request that still works with curl").
 */
export const MAX_REQUEST_LINE_BYTES = 8192;

/** Node's own limit is 16 KiB of request line + headers (then 431); raised so over-long URLs get nginx's 414. */
const NODE_MAX_HEADER_BYTES = 1024 * 1024;

/** How a missing or wrong key is refused: 401 (the spec, recorded) or 403 (the market-data FAQ). */
export type AuthFailureStatus = 401 | 403;

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
  authFailureStatus: AuthFailureStatus;
  maxRequestLineBytes: number;
  pageVariation: PageVariation;
  /** The Trading API's assets and calendar, served on this port too; undefined when they have a port of their own. */
  trading: TradingState | undefined;
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
  return createServer({ maxHeaderSize: NODE_MAX_HEADER_BYTES }, (req, res) => {
    try {
      handle(state, req, res);
    } catch (e) {
      sendJsonError(res, 500, `internal server error: ${(e as Error).message}`);
    }
  });
}

/** A server for the Trading API alone (`tradingPort`): its two routes, JSON 404 for anything else. */
export function createTradingServer(trading: TradingState): Server {
  return createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://sim.local");
    try {
      if (TRADING_ROUTES.has(url.pathname)) return handleTrading(trading, req, res, url);
      sendJsonError(res, 404, "Not Found", {}, 40410000);
    } catch (e) {
      sendJsonError(res, 500, `internal server error: ${(e as Error).message}`);
    }
  });
}

/** The request line (`GET <target> HTTP/1.1` and its CRLF) in bytes, as nginx buffers it. */
function requestLineBytes(req: IncomingMessage): number {
  return Buffer.byteLength(`${req.method ?? "GET"} ${req.url ?? "/"} HTTP/${req.httpVersion}\r\n`);
}

/** A refused request still shows the bucket: nothing remaining, and when the next token arrives. */
function refusedHeaders(d: RateDecision, nowMs: number): Record<string, string> {
  const reset = Math.max(d.resetEpochSeconds, Math.ceil((nowMs + 1) / 1000));
  return rateHeaders({ ...d, remaining: 0, resetEpochSeconds: reset });
}

function handle(state: ServerState, req: IncomingMessage, res: ServerResponse): void {
  const url = new URL(req.url ?? "/", "http://sim.local");
  const gzip = acceptsGzip(req);
  const r = route(url.pathname);
  const lineBytes = requestLineBytes(req);
  if (lineBytes > state.maxRequestLineBytes) {
    // nginx refuses before anything else: no auth, no rate limit, no JSON.
    record(state.stats, { endpoint: r?.endpoint ?? "multi", symbols: [], bars: 0, status: 414, gzip, requestLineBytes: lineBytes });
    return send(res, 414, URI_TOO_LARGE_HTML, {}, "text/html", gzip);
  }
  if (state.trading && TRADING_ROUTES.has(url.pathname)) return handleTrading(state.trading, req, res, url);
  if (!r || req.method !== "GET") return sendJsonError(res, 404, "Not Found", {}, undefined, gzip);
  const symbols = r.pathSymbol !== undefined ? [r.pathSymbol] : (url.searchParams.get("symbols") ?? "").split(",");
  const rec = {
    endpoint: r.endpoint, symbols, bars: 0, pageToken: url.searchParams.get("page_token") ?? undefined, gzip,
    requestLineBytes: lineBytes,
  };

  const key = authenticate(req, state.keys);
  if (!key) {
    const status = state.authFailureStatus;
    record(state.stats, { ...rec, status });
    return send(res, status, status === 401 ? UNAUTHORIZED_HTML : FORBIDDEN_HTML, {}, "text/html", gzip);
  }
  const plan = key.plan ?? "basic";
  const decision = state.limiter.take(key.keyId, plan === "algo_trader_plus" ? 10_000 : state.rateLimitPerMin);
  // The spec lists X-RateLimit-* on 200, 400 and 429 (components.responses."429".headers).
  if (!decision.allowed) {
    record(state.stats, { ...rec, status: 429 });
    return send(res, 429, TOO_MANY_REQUESTS, refusedHeaders(decision, Date.now()), undefined, gzip);
  }
  const fault = state.faults?.draw(rec.pageToken !== undefined);
  const headers = { ...rateHeaders(decision), "X-Request-ID": nextRequestId() };
  const finish = (status: number, bars = 0) => record(state.stats, { ...rec, status, bars, fault });

  switch (fault) {
    case "rate429":
      finish(429);
      return send(res, 429, TOO_MANY_REQUESTS, refusedHeaders(decision, Date.now()), undefined, gzip);
    case "error500":
      finish(500);
      return sendJsonError(res, 500, "internal server error", headers, undefined, gzip);
    case "reset":
      finish(0);
      req.socket.destroy();
      return;
    case "slow": {
      const timer = setTimeout(() => {
        state.pendingTimers.delete(timer);
        respond(state, url, r.pathSymbol, plan, fault, headers, gzip, res, finish);
      }, state.faults!.slowMs);
      state.pendingTimers.add(timer);
      return;
    }
  }
  respond(state, url, r.pathSymbol, plan, fault, headers, gzip, res, finish);
}

function respond(
  state: ServerState,
  url: URL,
  pathSymbol: string | undefined,
  plan: Plan,
  fault: FaultMode | undefined,
  headers: Record<string, string>,
  gzip: boolean,
  res: ServerResponse,
  finish: (status: number, bars?: number) => void,
): void {
  const parsed = parseBarsRequest(url.searchParams, pathSymbol, plan, state.now().getTime());
  if (isParamError(parsed)) {
    finish(parsed.status);
    return sendJsonError(res, parsed.status, parsed.message, headers, parsed.code, gzip);
  }
  const endpoint = pathSymbol === undefined ? "multi" : "single";
  const shape = pageShape(state.pageVariation, requestKey(url), parsed.limit);
  const overrideToken = (next: string | null, bars: number) => {
    if (fault === "repeatToken") return parsed.rawPageToken ?? next;
    if (fault === "emptyLastPage" && next === null && bars > 0) return tokenPastTheEnd(parsed.walk);
    return next;
  };
  if (fault === "truncatedJson" || fault === "invalidJson") {
    const chunks: string[] = [];
    const page = renderPage(parsed, endpoint, (c) => chunks.push(c), overrideToken, shape);
    finish(200, page.bars);
    const body = chunks.join("");
    return send(res, 200, fault === "truncatedJson"
      ? body.slice(0, Math.floor(body.length / 2))
      : `<html><body><h1>502 Bad Gateway</h1></body></html>${body.slice(0, 40)}`, headers, undefined, gzip);
  }
  // Streamed (chunked): the page is written as it is generated.
  const out = openStream(res, headers, gzip);
  const page = renderPage(parsed, endpoint, (c) => out.write(c), overrideToken, shape);
  out.end();
  finish(200, page.bars);
}
