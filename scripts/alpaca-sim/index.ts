/**
 * In-process Alpaca simulator: `startAlpacaSim()` listens on a local port and
 * serves `GET /v2/stocks/bars` and `GET /v2/stocks/{symbol}/bars` (Market Data
 * API) and `GET /v2/assets` and `GET /v2/calendar` (Trading API; on the same
 * port, or on `tradingPort`) closely enough for the official SDK, following
 * Alpaca's documented and observed behaviour.
 */
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { buildUniverse, type SimAsset, type SimAssetSpec } from "./assets.ts";
import type { FaultSpec } from "./faults.ts";
import { DEFAULT_PAGE_VARIATION, EXACT_PAGES, type PageVariation } from "./paging.ts";
import type { Plan } from "./params.ts";
import { RateLimiter } from "./rate-limit.ts";
import {
  type AuthFailureStatus,
  createSimServer,
  createTradingServer,
  MAX_REQUEST_LINE_BYTES,
  type ServerState,
  setFaults,
} from "./server.ts";
import { emptyStats, type SimStats, snapshot } from "./stats.ts";
import type { TradingState } from "./trading.ts";

export type { SimAsset, SimAssetSpec } from "./assets.ts";
export type { FaultMode, FaultSpec } from "./faults.ts";
export { parseFaultSpec } from "./faults.ts";
export { DEFAULT_PAGE_VARIATION, type PageVariation } from "./paging.ts";
export { type AuthFailureStatus, MAX_REQUEST_LINE_BYTES } from "./server.ts";
export type { Endpoint, RequestRecord, SimStats } from "./stats.ts";

export const DEFAULT_SIM_KEY_ID = "SIMKEY00000000000000";
export const DEFAULT_SIM_SECRET = "simsecret0000000000000000000000000000000";

export interface SimOptions {
  /** 0 (default) = a random free port. */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** Default: one basic-plan key, DEFAULT_SIM_KEY_ID / DEFAULT_SIM_SECRET. */
  keys?: Array<{ keyId: string; secret: string; plan?: Plan }>;
  /** Bucket capacity and refill per minute for basic keys (default 200; algo_trader_plus: 10,000). */
  rateLimitPerMin?: number;
  /** Refill speed multiplier (default 1). */
  timeScale?: number;
  faults?: FaultSpec;
  /** The data clock: default `end`, the 15-minute rule, which bars exist yet. Rate limiting uses real time. */
  now?: () => Date;
  /** Status for a missing or wrong key: 401 (default; the spec, recorded) or 403 (the market-data FAQ). Both are nginx HTML. */
  authFailureStatus?: AuthFailureStatus;
  /** Request lines longer than this get nginx's 414 (default 8192, nginx's large_client_header_buffers). */
  maxRequestLineBytes?: number;
  /**
   * Short pages and empty-tail tokens, drawn per request (default
   * DEFAULT_PAGE_VARIATION); `false` = every page holds exactly `limit` rows
   * and the last one has no token.
   */
  pageVariation?: Partial<PageVariation> | false;
  /** Listings added to the Trading API's asset list (a spec for an existing symbol replaces it). */
  extraAssets?: SimAssetSpec[];
  /** Serve the Trading API on a port of its own (0 = a random one) instead of this one. */
  tradingPort?: number;
}

export interface AlpacaSim {
  /** Base URL, usable as the SDK's `basePath`. */
  url: string;
  port: number;
  /** Base URL of the Trading API (`url` unless `tradingPort` was given). */
  tradingUrl: string;
  /** The asset list as `GET /v2/assets` sees it now. */
  assets(): SimAsset[];
  /** New listings from now on (a spec for an existing symbol replaces it). */
  addAssets(specs: SimAssetSpec[]): void;
  /** Trading API requests answered (and refused). */
  tradingRequests(): TradingState["requests"];
  stats(): SimStats;
  resetStats(): void;
  setFaults(f: FaultSpec | undefined): void;
  close(): Promise<void>;
}

function listen(server: Server, port: number, host: string): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

async function closeServer(server: Server): Promise<void> {
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeAllConnections();
  await closed;
}

export async function startAlpacaSim(opts: SimOptions = {}): Promise<AlpacaSim> {
  const keys = opts.keys ?? [{ keyId: DEFAULT_SIM_KEY_ID, secret: DEFAULT_SIM_SECRET, plan: "basic" as const }];
  const limiter = new RateLimiter(opts.timeScale ?? 1, () => Date.now());
  let extra = [...(opts.extraAssets ?? [])];
  let universe = buildUniverse(extra);
  const trading: TradingState = {
    keys, limiter, authFailureStatus: opts.authFailureStatus ?? 401, universe: () => universe, requests: { assets: 0, calendar: 0, refused: 0 },
  };
  const separate = opts.tradingPort !== undefined;
  const state: ServerState = {
    keys,
    rateLimitPerMin: opts.rateLimitPerMin ?? 200,
    limiter,
    faults: undefined,
    now: opts.now ?? (() => new Date()),
    stats: emptyStats(),
    pendingTimers: new Set(),
    authFailureStatus: opts.authFailureStatus ?? 401,
    maxRequestLineBytes: opts.maxRequestLineBytes ?? MAX_REQUEST_LINE_BYTES,
    pageVariation: opts.pageVariation === false ? EXACT_PAGES : { ...DEFAULT_PAGE_VARIATION, ...opts.pageVariation },
    trading: separate ? undefined : trading,
  };
  setFaults(state, opts.faults);
  const server = createSimServer(state);
  const host = opts.host ?? "127.0.0.1";
  const port = await listen(server, opts.port ?? 0, host);
  const tradingServer = separate ? createTradingServer(trading) : undefined;
  const tradingPort = tradingServer ? await listen(tradingServer, opts.tradingPort!, host) : port;
  const base = (p: number) => `http://${host.includes(":") ? `[${host}]` : host}:${p}`;
  return {
    url: base(port),
    port,
    tradingUrl: base(tradingPort),
    assets: () => [...universe],
    addAssets: (specs) => {
      extra = [...extra, ...specs];
      universe = buildUniverse(extra);
    },
    tradingRequests: () => ({ ...trading.requests }),
    stats: () => snapshot(state.stats),
    resetStats: () => {
      state.stats = emptyStats();
    },
    setFaults: (f) => setFaults(state, f),
    close: async () => {
      for (const t of state.pendingTimers) clearTimeout(t);
      state.pendingTimers.clear();
      await Promise.all([closeServer(server), ...(tradingServer ? [closeServer(tradingServer)] : [])]);
    },
  };
}
