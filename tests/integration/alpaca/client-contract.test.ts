/**
 * The product against Alpaca's published behaviour, through the simulator:
 * for each place the simulator used to part from Alpaca, the test that would
 * have caught the product misbehaving against the real service.
 * Longer than most files: one group per contract fix, sharing the simulators they start.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { countBars, expectedBars } from "../../../scripts/alpaca-sim/ground-truth.ts";
import {
  type AlpacaSim,
  DEFAULT_SIM_KEY_ID,
  DEFAULT_SIM_SECRET,
  MAX_REQUEST_LINE_BYTES,
  type SimOptions,
  startAlpacaSim,
} from "../../../scripts/alpaca-sim/index.ts";
import {
  type AlpacaClientConfig,
  type BarPage,
  type BarsQuery,
  createAlpacaBarsClient,
  iterateBarPages,
  MAX_BASKET_SYMBOLS,
  MAX_RATE_LIMIT_WAIT_MS,
  MAX_REQUEST_TARGET_BYTES,
  MAX_TICKER_LENGTH,
  MIN_RATE_LIMIT_WAIT_MS,
} from "../../../supabase/functions/_shared/alpaca/index.ts";
import { type JobError, PermanentError, RateLimitedError, RetryableError } from "../../../supabase/functions/_shared/errors.ts";
import { unlimitedBudget } from "../../../supabase/functions/_shared/isolate-budget.ts";
import { runSlice, type SliceDeps } from "../../../supabase/functions/_shared/run-slice.ts";
import { TICKER } from "../../../supabase/functions/_shared/slice.ts";
import { batchSlice, fakeQueue, type FakeQueue, memoryLogger } from "../../helpers/fakes.ts";
import { SIM_NOW, startTestSim } from "./sim-helpers.ts";

const sims: AlpacaSim[] = [];
async function simWith(opts: SimOptions = {}): Promise<AlpacaSim> {
  const s = await startTestSim(opts);
  sims.push(s);
  return s;
}
afterAll(async () => {
  await Promise.all(sims.map((s) => s.close()));
});

const clientFor = (s: AlpacaSim, over: Partial<AlpacaClientConfig> = {}) =>
  createAlpacaBarsClient({ baseUrl: s.url, keyId: DEFAULT_SIM_KEY_ID, secretKey: DEFAULT_SIM_SECRET, ...over });
/** A client whose `fetch` answers canned responses (nothing listens at its base URL). */
const offline = (over: Partial<AlpacaClientConfig>) =>
  createAlpacaBarsClient({ baseUrl: "http://127.0.0.1:9", keyId: DEFAULT_SIM_KEY_ID, secretKey: DEFAULT_SIM_SECRET, ...over });

async function failure(p: Promise<unknown>): Promise<JobError> {
  try {
    await p;
  } catch (e) {
    return e as JobError;
  }
  throw new Error("expected a failure");
}

const DAY: BarsQuery = {
  endpoint: "multi", symbols: ["AAPL", "MSFT"], timeframe: "1Min",
  start: "2024-03-05T14:30:00Z", end: "2024-03-05T20:59:00Z", limit: 1000,
};

function sliceDeps(queue: FakeQueue, pages: SliceDeps["pages"], sleep: (ms: number) => Promise<void>): SliceDeps {
  let clock = 0;
  return {
    queue, log: memoryLogger(), pages, budget: unlimitedBudget(), leaseSeconds: 180, sleep,
    now: () => (clock += 1), redact: (t) => t,
  };
}

/** Ten liquid names × two days of 1Min: two pages of 10,000 (the slice runner's page size). */
const TWO_PAGES = batchSlice({
  symbols: ["AAPL", "AMZN", "GOOGL", "JPM", "META", "MSFT", "NVDA", "SPY", "TSLA", "XOM"],
  sliceStart: "2024-03-05T00:00:00.000Z", sliceEnd: "2024-03-07T00:00:00.000Z",
});

describe("429: the wait comes from X-RateLimit-Reset, and the slice runner sleeps it", () => {
  it("RateLimitedError.retryAfterMs is the time to the bucket's next token (one a minute here), not a guess", async () => {
    const limited = await simWith({ rateLimitPerMin: 1 });
    const c = clientFor(limited);
    await c.fetchPage(DAY, null);
    const err = await failure(c.fetchPage(DAY, null));
    expect(err).toBeInstanceOf(RateLimitedError);
    expect(err.status).toBe(429);
    const wait = (err as RateLimitedError).retryAfterMs!;
    expect(wait).toBeGreaterThan(50_000);
    expect(wait).toBeLessThanOrEqual(MAX_RATE_LIMIT_WAIT_MS);
  });

  it("bounds the wait: a reset in the past (clock skew) waits the minimum; no header (as measured on some 429s) leaves it unset", async () => {
    const answer = (headers: Record<string, string>) => () =>
      Promise.resolve(new Response('{"message": "too many requests."}', { status: 429, headers }));
    const past = String(Math.floor(Date.now() / 1000) - 30);
    const skewed = await failure(offline({ fetch: answer({ "X-RateLimit-Reset": past }) }).fetchPage(DAY, null));
    expect((skewed as RateLimitedError).retryAfterMs).toBe(MIN_RATE_LIMIT_WAIT_MS);
    const far = String(Math.floor(Date.now() / 1000) + 3600);
    const tooFar = await failure(offline({ fetch: answer({ "X-RateLimit-Reset": far }) }).fetchPage(DAY, null));
    expect((tooFar as RateLimitedError).retryAfterMs).toBe(MAX_RATE_LIMIT_WAIT_MS);
    const none = await failure(offline({ fetch: answer({}) }).fetchPage(DAY, null));
    expect(none).toBeInstanceOf(RateLimitedError);
    expect((none as RateLimitedError).retryAfterMs).toBeUndefined();
  });

  it("runSlice defers the run with the header's wait, without sleeping, when that wait is long", async () => {
    const limited = await simWith({ rateLimitPerMin: 1 });
    const client = clientFor(limited);
    const queue = fakeQueue();
    const sleeps: number[] = [];
    const outcome = await runSlice(TWO_PAGES, sliceDeps(queue, (q) => iterateBarPages(client, q), (ms) => {
      sleeps.push(ms);
      return Promise.resolve(); // no real wait: the bucket stays empty, every retry is refused
    }));
    expect(outcome).toBe("rate_limited");
    // Waiting a minute in place would hold the isolate and the lease: the run is deferred at once.
    expect(sleeps).toEqual([]);
    expect(queue.calls.map((c) => c.op)).toEqual(["savePage", "fail"]);
    const fail = queue.calls[1] as Extract<FakeQueue["calls"][number], { op: "fail" }>;
    expect(fail.kind).toBe("rate_limited");
    // Not the fallback (2 s, 4 s, 8 s): the minute the bucket needs, from the header.
    expect(fail.opts.retryAfterMs).toBeGreaterThan(50_000);
  });

  it("runSlice recovers after sleeping the header's wait (bucket refilling in real time)", { timeout: 20_000 }, async () => {
    // One token every 2 s (1 per "minute", a minute lasting 2 s).
    const limited = await simWith({ rateLimitPerMin: 1, timeScale: 30 });
    const client = clientFor(limited);
    const queue = fakeQueue();
    const sleeps: number[] = [];
    const outcome = await runSlice(TWO_PAGES, sliceDeps(queue, (q) => iterateBarPages(client, q), async (ms) => {
      sleeps.push(ms);
      await new Promise((r) => setTimeout(r, ms));
    }));
    expect(outcome).toBe("success");
    expect(sleeps.length).toBeGreaterThan(0);
    for (const ms of sleeps) expect(ms).toBeLessThanOrEqual(3_000);
    const stored = queue.calls.filter((c) => c.op === "savePage").reduce((n, c) => n + (c as { bars: number }).bars, 0);
    expect(stored).toBe(countBars({ symbols: TWO_PAGES.symbols, timeframe: "1Min", start: TWO_PAGES.sliceStart,
      end: "2024-03-06T23:59:59.999Z", now: SIM_NOW }));
  });
});

describe("URL length: every accepted basket fits Alpaca's nginx", () => {
  /** `n` distinct tickers of the longest form the product accepts: six letters, a dot, three letters. */
  const longTickers = (n: number) =>
    Array.from({ length: n }, (_, i) => {
      const l = (k: number) => String.fromCharCode(65 + (Math.floor(i / 26 ** k) % 26));
      return `${l(3)}${l(2)}${l(1)}${l(0)}QQ.ZZZ`;
    });

  it("the rule MAX_BASKET_SYMBOLS × MAX_TICKER_LENGTH, with every other parameter at its longest, stays under the limit", async () => {
    const s = await simWith();
    const symbols = longTickers(MAX_BASKET_SYMBOLS);
    expect(new Set(symbols).size).toBe(MAX_BASKET_SYMBOLS);
    expect(symbols.every((x) => TICKER.test(x) && x.length === MAX_TICKER_LENGTH)).toBe(true);
    const q: BarsQuery = {
      endpoint: "multi", symbols, timeframe: "12Month", start: "2024-03-05T14:30:00.123Z", end: "2024-03-05T20:59:59.999Z",
      adjustment: "raw,split,dividend,spin-off,all", feed: "boats", limit: 10_000,
    };
    // The longest checkpoint a slice accepts (slice.ts pageToken max 1000) is not a real token: Alpaca answers 400.
    const err = await failure(clientFor(s).fetchPage(q, "A".repeat(1000)));
    expect(err).toBeInstanceOf(PermanentError);
    expect(err.message).toBe("Alpaca rejected the request (400): invalid page_token");
    const [sent] = s.stats().log;
    expect(sent!.requestLineBytes).toBeLessThanOrEqual(MAX_REQUEST_TARGET_BYTES + "GET  HTTP/1.1\r\n".length);
    expect(sent!.requestLineBytes).toBeLessThan(MAX_REQUEST_LINE_BYTES);
  });

  it("refuses a longer request before any I/O (no budget taken, nothing sent), naming the limit", async () => {
    const s = await simWith();
    let acquired = 0;
    const c = clientFor(s, { acquire: () => Promise.resolve(void acquired++) });
    const err = await failure(c.fetchPage({ ...DAY, symbols: longTickers(700) }, null));
    expect(err).toBeInstanceOf(PermanentError);
    expect(err.message).toMatch(/^the Alpaca request URL would be \d+ bytes, over the 8000-byte limit \(700 symbols\); a basket may hold at most 500 tickers$/);
    expect(acquired).toBe(0);
    expect(s.stats().requests).toBe(0);
  });

  it("a 414 from a stricter front end is a permanent failure with a clear message, not HTML", async () => {
    const strict = await simWith({ maxRequestLineBytes: 1_000 });
    const err = await failure(clientFor(strict).fetchPage({ ...DAY, symbols: longTickers(100) }, null));
    expect(err).toBeInstanceOf(PermanentError);
    expect(err.status).toBe(414);
    expect(err.message).toBe(
      "Alpaca refused the request URL as too long (414): 414 Request-URI Too Large; the basket needs fewer or shorter symbols",
    );
  });
});

describe("pages: short pages and empty tails are ordinary", () => {
  it("iterateBarPages and runSlice store exactly the ground truth when pages come short and the last one empty", async () => {
    const s = await simWith({ pageVariation: { shortPages: 0.5, emptyTails: 1 } });
    const client = clientFor(s);
    const q: BarsQuery = { ...DAY, symbols: ["AAPL", "CCI", "MSFT"], start: "2024-03-04T00:00:00Z", end: "2024-03-07T00:00:00Z" };
    const pages: BarPage[] = [];
    for await (const page of iterateBarPages(client, q)) pages.push(page);
    const rows = pages.flatMap((p) => p.bars.map((b) => `${b.symbol} ${b.ts}`));
    expect(rows).toEqual([...expectedBars({ ...q, now: SIM_NOW })].map((b) => `${b.symbol} ${b.t}`));
    expect(pages.slice(0, -1).some((p) => p.bars.length < 1000)).toBe(true); // a short page that was not the last
    expect(pages.at(-1)!.bars).toEqual([]);
    expect(pages.at(-2)!.nextPageToken).not.toBeNull();

    const queue = fakeQueue();
    const slice = batchSlice({ symbols: ["AAPL", "CCI", "MSFT"], sliceStart: "2024-03-04T00:00:00.000Z", sliceEnd: "2024-03-07T00:00:00.000Z" });
    expect(await runSlice(slice, sliceDeps(queue, (sq) => iterateBarPages(client, sq), () => Promise.resolve()))).toBe("success");
    const saves = queue.calls.filter((c) => c.op === "savePage") as Array<{ bars: number; next: string | null; completeAs: string | null }>;
    expect(saves.reduce((n, c) => n + c.bars, 0)).toBe(countBars({ ...q, end: "2024-03-06T23:59:59.999Z", now: SIM_NOW }));
    expect(saves.at(-1)).toMatchObject({ next: null, completeAs: "fetch-bars-batch" });
    expect(saves.slice(0, -1).every((c) => c.next !== null && c.completeAs === null)).toBe(true);
  });
});

describe("bad credentials: 401 and 403 are one authentication failure, never the SIP 403", () => {
  it.each([401, 403] as const)("a wrong secret answered %i -> PermanentError 'Alpaca rejected the API key (%i)'", async (status) => {
    const s = await simWith({ authFailureStatus: status });
    const err = await failure(clientFor(s, { secretKey: "definitely-wrong" }).fetchPage(DAY, null));
    expect(err).toBeInstanceOf(PermanentError);
    expect(err.status).toBe(status);
    expect(err.message).toBe(`Alpaca rejected the API key (${status})`);
  });

  it("the JSON 403 {\"message\": \"forbidden.\"} is the same authentication failure", async () => {
    const fetch403 = () => Promise.resolve(new Response('{"message": "forbidden."}', { status: 403 }));
    const err = await failure(offline({ fetch: fetch403 }).fetchPage(DAY, null));
    expect(err.message).toBe("Alpaca rejected the API key (403)");
  });

  it("the subscription 403 keeps Alpaca's message and is not called a key problem", async () => {
    const s = await simWith();
    const recent: BarsQuery = { ...DAY, feed: "sip", start: "2025-06-30T20:00:00Z", end: new Date(SIM_NOW.getTime() - 60_000).toISOString() };
    const err = await failure(clientFor(s).fetchPage(recent, null));
    expect(err).toBeInstanceOf(PermanentError);
    expect(err.status).toBe(403);
    expect(err.message).toMatch(/^Alpaca refused the request \(403\): subscription does not permit querying recent SIP data/);
    expect(err.message).not.toContain("API key");
  });
});

describe("compression: pages travel gzipped, as Alpaca serves them", () => {
  let s: AlpacaSim;
  beforeAll(async () => {
    s = await simWith();
  });

  it("the client's requests accept gzip, the simulator answers gzip, and the rows are the ground truth", async () => {
    const rows: string[] = [];
    for await (const page of iterateBarPages(clientFor(s), DAY)) rows.push(...page.bars.map((b) => `${b.symbol} ${b.ts}`));
    expect(rows).toEqual([...expectedBars({ ...DAY, now: SIM_NOW })].map((b) => `${b.symbol} ${b.t}`));
    const log = s.stats().log;
    expect(log.length).toBeGreaterThan(0);
    expect(log.every((r) => r.status === 200 && r.gzip === true)).toBe(true);
  });

  it("a gzipped body cut in half is still a retryable 'invalid JSON', not a crash", async () => {
    const faulty = await startAlpacaSim({ rateLimitPerMin: 100_000, now: () => SIM_NOW, faults: { truncatedJson: 1 } });
    try {
      const err = await failure(clientFor(faulty).fetchPage(DAY, null));
      expect(err).toBeInstanceOf(RetryableError);
      expect(err.message).toMatch(/invalid JSON/);
      expect(faulty.stats().log[0]!.gzip).toBe(true);
    } finally {
      await faulty.close();
    }
  });
});

describe("alignment: stored timestamps are Alpaca's buckets", () => {
  it("45Min rows land at 07:30Z, 08:15Z, 09:00Z … (alpaca-trade-api-python README), not at :00/:45 of each hour", async () => {
    const s = await simWith();
    const q: BarsQuery = { endpoint: "single", symbols: ["AAPL"], timeframe: "45Min", start: "2021-06-08T04:00:00Z", end: "2021-06-08T15:00:00Z" };
    const ts: string[] = [];
    for await (const page of iterateBarPages(clientFor(s), q)) ts.push(...page.bars.map((b) => b.ts));
    expect(ts.slice(0, 4)).toEqual(["2021-06-08T07:30:00Z", "2021-06-08T08:15:00Z", "2021-06-08T09:00:00Z", "2021-06-08T09:45:00Z"]);
    expect(ts.every((t) => (Date.parse(t) / 60_000) % 45 === 0)).toBe(true);
  });
});
