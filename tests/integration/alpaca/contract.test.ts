/**
 * The simulator against what Alpaca itself publishes. Every test names its
 * source (the OpenAPI spec the JS SDK v4 is generated from, a recorded
 * response in an official SDK's tests, Alpaca's docs, or an issue thread),
 * sends the request that source describes, and asserts status, headers and
 * body shape; then sends the same request through the official SDK where it
 * has a method for it.
 *
 * SPEC = alpacahq/alpaca-trade-api-js tooling/specs/market-data-api.json
 * PY   = alpacahq/alpaca-py tests/data/test_historical_stock_data.py
 * GO   = alpacahq/alpaca-trade-api-go marketdata/rest_test.go
 * Longer than most files: one test per published source, each naming it; splitting would scatter the sources.
 */
import { request as httpRequest } from "node:http";
import { gunzipSync } from "node:zlib";
import { errors, marketData } from "@alpacahq/alpaca-trade-api";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { expectedBars } from "../../../scripts/alpaca-sim/ground-truth.ts";
import { type AlpacaSim, DEFAULT_SIM_KEY_ID, DEFAULT_SIM_SECRET, startAlpacaSim } from "../../../scripts/alpaca-sim/index.ts";
import { sdkFor, SIM_NOW, startTestSim } from "./sim-helpers.ts";

const AUTH = { "APCA-API-KEY-ID": DEFAULT_SIM_KEY_ID, "APCA-API-SECRET-KEY": DEFAULT_SIM_SECRET };

let sim: AlpacaSim;
beforeAll(async () => {
  sim = await startTestSim();
});
afterAll(() => sim.close());

async function get(target: string, headers: Record<string, string> = AUTH, on: AlpacaSim = sim) {
  const res = await fetch(`${on.url}${target}`, { headers });
  const text = await res.text();
  return { status: res.status, headers: res.headers, text, json: () => JSON.parse(text) as Record<string, unknown> };
}

/** SPEC components.headers: ratelimit_limit / _remaining / _reset, all integers (reset = UNIX epoch seconds). */
function expectRateLimitHeaders(h: Headers) {
  for (const name of ["X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset"]) expect(h.get(name)).toMatch(/^\d+$/);
  expect(Number(h.get("X-RateLimit-Reset"))).toBeGreaterThan(Date.now() / 1000 - 2);
}

const T_SECONDS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/;

/** SPEC schemas.stock_bar: c, h, l, n, o, t, v, vw, all required; t RFC-3339. */
function expectBar(b: unknown) {
  expect(Object.keys(b as object).sort()).toEqual(["c", "h", "l", "n", "o", "t", "v", "vw"]);
  const bar = b as Record<string, unknown>;
  for (const k of ["c", "h", "l", "o", "vw"]) expect(typeof bar[k]).toBe("number");
  expect(Number.isInteger(bar.v) && Number.isInteger(bar.n)).toBe(true);
  expect(bar.t).toMatch(T_SECONDS);
}

/** SPEC schemas.stock_bars_resp: required bars (symbol -> bars) and next_page_token (string or null). */
function expectMultiBody(body: Record<string, unknown>) {
  expect(Object.keys(body).sort()).toEqual(["bars", "next_page_token"]);
  expect(body.next_page_token === null || typeof body.next_page_token === "string").toBe(true);
  for (const list of Object.values(body.bars as Record<string, unknown[]>)) list.forEach(expectBar);
}

/** Follows next_page_token on the wire until it is null; rows per symbol in order. */
async function walk(target: string): Promise<{ pages: Array<{ rows: number; token: string | null }>; t: Record<string, string[]> }> {
  const pages: Array<{ rows: number; token: string | null }> = [];
  const t: Record<string, string[]> = {};
  let token: string | null = null;
  do {
    const res = await get(`${target}${token ? `&page_token=${encodeURIComponent(token)}` : ""}`);
    expect(res.status).toBe(200);
    const body = res.json();
    expectMultiBody(body);
    let rows = 0;
    for (const [sym, list] of Object.entries(body.bars as Record<string, Array<{ t: string }>>)) {
      (t[sym] ??= []).push(...list.map((b) => b.t));
      rows += list.length;
    }
    token = body.next_page_token as string | null;
    pages.push({ rows, token });
  } while (token);
  return { pages, t };
}

describe("SPEC paths./v2/stocks/bars (200 example, schemas, headers)", () => {
  it("answers the example request: AAPL 1Min from 2022-01-03T09:00:00Z, one bar per page, with a token", async () => {
    const res = await get("/v2/stocks/bars?symbols=AAPL&timeframe=1Min&start=2022-01-03T09:00:00Z&end=2022-01-03T10:00:00Z&limit=1");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^application\/json/);
    expectRateLimitHeaders(res.headers); // SPEC: the 200 response lists X-RateLimit-Limit/-Remaining/-Reset
    const body = res.json();
    expectMultiBody(body);
    expect((body.bars as { AAPL: Array<{ t: string }> }).AAPL.map((b) => b.t)).toEqual(["2022-01-03T09:00:00Z"]);
    // The example's token is base64 of SYMBOL|M|<position>; ours names the next row.
    expect(atob(body.next_page_token as string)).toMatch(/^AAPL\|M\|\d+$/);

    const viaSdk = await sdkFor(sim).stockBars({
      symbols: "AAPL", timeframe: "1Min", start: new Date("2022-01-03T09:00:00Z"), end: new Date("2022-01-03T10:00:00Z"), limit: 1,
    });
    expect(viaSdk.bars.AAPL!.map((b) => String(b.t))).toEqual(["2022-01-03T09:00:00Z"]);
    expect(typeof viaSdk.nextPageToken).toBe("string");
  });

  it("paths./v2/stocks/{symbol}/bars: {bars: [...], symbol, next_page_token} (schemas.stock_bars_resp_single)", async () => {
    const res = await get("/v2/stocks/AAPL/bars?timeframe=1Min&start=2022-01-03T09:00:00Z&end=2022-01-03T09:05:00Z");
    expect(res.status).toBe(200);
    expectRateLimitHeaders(res.headers);
    const body = res.json();
    expect(Object.keys(body).sort()).toEqual(["bars", "next_page_token", "symbol"]);
    expect(body.symbol).toBe("AAPL");
    (body.bars as unknown[]).forEach(expectBar);
    const viaSdk = await sdkFor(sim).stockBarSingle({
      symbol: "AAPL", timeframe: "1Min", start: new Date("2022-01-03T09:00:00Z"), end: new Date("2022-01-03T09:05:00Z"),
    });
    expect(viaSdk.bars.map((b) => b.t.toISOString().replace(".000Z", "Z")))
      .toEqual((body.bars as Array<{ t: string }>).map((b) => b.t));
  });

  it("paths./v2/stocks/bars description: sorted by symbol first, then by bar timestamp", async () => {
    const { t } = await walk("/v2/stocks/bars?symbols=MSFT,AAPL&timeframe=1Hour&start=2024-03-05T00:00:00Z&end=2024-03-06T00:00:00Z&limit=7");
    expect(Object.keys(t)).toEqual(["AAPL", "MSFT"]);
    for (const list of Object.values(t)) expect([...list].sort()).toEqual(list);
  });
});

describe("SPEC components.parameters.limit: a page may hold less, and a token may lead to nothing", () => {
  // "The API may return less, even if there are more available data points in the requested interval.
  //  Always check the next_page_token for more pages. The limit applies to the total number of data
  //  points, not per symbol!" — and PY test_get_bars / GO TestGetBars_Asof record tokens that name the
  //  page's own last bar, so a page ending on the last row still carries a token.
  const target = "/v2/stocks/bars?symbols=AAPL,MSFT,NVDA&timeframe=1Min&start=2024-03-04T00:00:00Z&end=2024-03-09T00:00:00Z&limit=100";

  it("cuts some pages short and still returns every row exactly once, in ground-truth order", async () => {
    const { pages, t } = await walk(target);
    const truth = [...expectedBars({
      symbols: ["AAPL", "MSFT", "NVDA"], timeframe: "1Min", start: "2024-03-04T00:00:00Z", end: "2024-03-09T00:00:00Z", now: SIM_NOW,
    })];
    expect(Object.entries(t).flatMap(([sym, list]) => list.map((x) => `${sym} ${x}`))).toEqual(truth.map((b) => `${b.symbol} ${b.t}`));
    expect(pages.every((p) => p.rows <= 100)).toBe(true);
    expect(pages.slice(0, -1).some((p) => p.rows < 100 && p.token !== null)).toBe(true); // short, not last
    // Deterministic by request: the same walk gives the same pages.
    expect((await walk(target)).pages).toEqual(pages);
  });

  it("sometimes ends with a token whose page is empty (then null)", async () => {
    let emptyTail: Array<{ rows: number; token: string | null }> | undefined;
    for (let day = 4; day <= 29 && !emptyTail; day++) {
      const d = String(day).padStart(2, "0");
      const { pages } = await walk(`/v2/stocks/bars?symbols=IBM&timeframe=1Hour&start=2024-03-${d}T00:00:00Z&end=2024-03-${d}T23:59:00Z&limit=10000`);
      if (pages.length > 1) emptyTail = pages;
    }
    expect(emptyTail).toBeDefined();
    expect(emptyTail!.at(-1)).toEqual({ rows: 0, token: null });
    expect(emptyTail!.at(-2)!.token).not.toBeNull();
  });
});

describe("SPEC components.responses (error statuses and their headers)", () => {
  it("400 carries X-RateLimit-* and Alpaca's {message}", async () => {
    const res = await get("/v2/stocks/bars?symbols=AAPL&timeframe=3Fortnight");
    expect(res.status).toBe(400);
    expectRateLimitHeaders(res.headers);
    expect(res.json()).toEqual({ message: "invalid timeframe: 3Fortnight" });
    const err = await sdkFor(sim).stockBars({ symbols: "AAPL", timeframe: "3Fortnight" }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(errors.ValidationError);
  });

  it("401 'Authentication headers are missing or invalid': nginx HTML, no rate-limit headers", async () => {
    const res = await get("/v2/stocks/bars?symbols=AAPL&timeframe=1Min", {});
    expect(res.status).toBe(401);
    expect(res.headers.get("content-type")).toBe("text/html");
    expect(res.headers.get("X-RateLimit-Limit")).toBeNull();
    expect(res.text).toContain("<title>401 Authorization Required</title>");
    const err = await sdkFor(sim, { secret: "wrong" }).stockBars({ symbols: "AAPL", timeframe: "1Min" }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(errors.AuthError);
  });

  it("429 'Use the X-RateLimit-... response headers': served with them; the SDK derives retryAfterMs from Reset", async () => {
    const limited = await startAlpacaSim({ rateLimitPerMin: 1, now: () => SIM_NOW });
    try {
      const q = "/v2/stocks/bars?symbols=AAPL&timeframe=1Day&start=2024-03-01T00:00:00Z&end=2024-03-08T00:00:00Z";
      expect((await get(q, AUTH, limited)).status).toBe(200);
      const res = await get(q, AUTH, limited);
      expect(res.status).toBe(429);
      expectRateLimitHeaders(res.headers);
      expect(res.headers.get("X-RateLimit-Remaining")).toBe("0");
      expect(res.headers.get("Retry-After")).toBeNull();
      expect(res.text).toBe('{"message": "too many requests."}');
      // One token a minute: the next one is about 60 s away.
      expect(Number(res.headers.get("X-RateLimit-Reset")) * 1000 - Date.now()).toBeGreaterThan(50_000);

      const err = await sdkFor(limited).stockBars({ symbols: "AAPL", timeframe: "1Day" }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(errors.RateLimitError);
      const e = err as errors.ApiError;
      expect(e.rateLimit).toMatchObject({ limit: 1, remaining: 0 });
      expect(e.retryAfterMs).toBeGreaterThan(50_000); // SDK errors.ts computeRetryAfterMs: reset − now
      expect(e.retryAfterMs).toBeLessThanOrEqual(61_000);
    } finally {
      await limited.close();
    }
  });
});

describe("https://docs.alpaca.markets/docs/market-data-faq 'Why am I getting HTTP 403 (Forbidden)?'", () => {
  it("'the provided credentials were incorrect' -> 403 nginx page (sim option authFailureStatus: 403)", async () => {
    const faq = await startTestSim({ authFailureStatus: 403 });
    try {
      const res = await get("/v2/stocks/bars?symbols=AAPL&timeframe=1Min", { ...AUTH, "APCA-API-SECRET-KEY": "wrong" }, faq);
      expect(res.status).toBe(403);
      expect(res.headers.get("content-type")).toBe("text/html");
      // The page Alpaca's data host sent (alpacahq/marketstore issue: body "<head><title>403 Forbidden</title></head>").
      expect(res.text).toBe("<html>\r\n<head><title>403 Forbidden</title></head>\r\n<body>\r\n<center><h1>403 Forbidden</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n");
      const err = await sdkFor(faq, { secret: "wrong" }).stockBars({ symbols: "AAPL", timeframe: "1Min" }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(errors.PermissionError);
      expect((err as errors.ApiError).message).toContain("403 Forbidden");
    } finally {
      await faq.close();
    }
  });

  it("'subscription does not permit querying recent SIP data' -> 403 JSON with that message", async () => {
    const end = new Date(SIM_NOW.getTime() - 60_000).toISOString();
    const res = await get(`/v2/stocks/bars?symbols=AAPL&timeframe=1Min&feed=sip&start=2025-06-30T20:00:00Z&end=${end}`);
    expect(res.status).toBe(403);
    expect(res.headers.get("content-type")).toMatch(/^application\/json/);
    expect(res.json()).toEqual({ message: "subscription does not permit querying recent SIP data" });
  });
});

describe("PY recorded responses", () => {
  it("test_get_bars: AAPL 1Day from 2022-02-01 limit 2 -> 2022-02-01T05:00:00Z, 2022-02-02T05:00:00Z and a token", async () => {
    // alpaca-py sends the start as quote_plus(isoformat()): 2022-02-01T00%3A00%3A00%2B00%3A00
    const res = await get("/v2/stocks/bars?symbols=AAPL&start=2022-02-01T00%3A00%3A00%2B00%3A00&timeframe=1Day&limit=2");
    expect(res.status).toBe(200);
    const body = res.json();
    expectMultiBody(body);
    expect((body.bars as { AAPL: Array<{ t: string }> }).AAPL.map((b) => b.t)).toEqual(["2022-02-01T05:00:00Z", "2022-02-02T05:00:00Z"]);
    expect(body.next_page_token).toEqual(expect.any(String));
    const viaSdk = await sdkFor(sim).stockBars({ symbols: "AAPL", timeframe: "1Day", start: new Date("2022-02-01T00:00:00Z"), limit: 2 });
    expect(viaSdk.bars.AAPL!.map((b) => String(b.t))).toEqual(["2022-02-01T05:00:00Z", "2022-02-02T05:00:00Z"]);
  });

  it("test_get_bars_desc: TSLA 1Day 2023-09-01..2023-09-27T12:00 limit 3 sort=desc -> 09-27, 09-26, 09-25 at 04:00Z", async () => {
    const res = await get(
      "/v2/stocks/bars?symbols=TSLA&start=2023-09-01T00%3A00%3A00%2B00%3A00&end=2023-09-27T12%3A00%3A00%2B00%3A00&timeframe=1Day&limit=3&sort=desc",
    );
    expect(res.status).toBe(200);
    const body = res.json();
    expect((body.bars as { TSLA: Array<{ t: string }> }).TSLA.map((b) => b.t))
      .toEqual(["2023-09-27T04:00:00Z", "2023-09-26T04:00:00Z", "2023-09-25T04:00:00Z"]);
    expect(body.next_page_token).toEqual(expect.any(String));
    const viaSdk = await sdkFor(sim).stockBars({
      symbols: "TSLA", timeframe: "1Day", start: new Date("2023-09-01T00:00:00Z"), end: new Date("2023-09-27T12:00:00Z"), limit: 3,
      sort: "desc" as marketData.Sort,
    });
    expect(viaSdk.bars.TSLA!.map((b) => String(b.t))).toEqual(["2023-09-27T04:00:00Z", "2023-09-26T04:00:00Z", "2023-09-25T04:00:00Z"]);
  });

  it("test_multisymbol_get_bars: symbols=AAPL%2CTSLA 1Day -> both keys, bars at New York midnight (EST: 05:00Z)", async () => {
    const { t } = await walk(
      "/v2/stocks/bars?timeframe=1Day&start=2022-02-01T00%3A00%3A00%2B00%3A00&end=2022-03-09T00%3A00%3A00%2B00%3A00&symbols=AAPL%2CTSLA&limit=10000",
    );
    expect(Object.keys(t)).toEqual(["AAPL", "TSLA"]);
    expect(Object.values(t).flat().every((x) => x.endsWith("T05:00:00Z"))).toBe(true);
    expect(t.AAPL![0]).toBe("2022-02-01T05:00:00Z");
  });

  it("test_get_bars_multi_empty_response: nothing to return -> {\"bars\": {}, \"next_page_token\": null}", async () => {
    const res = await get("/v2/stocks/bars?symbols=ZZZQ&start=2022-02-01T00%3A00%3A00%2B00%3A00&timeframe=1Day&limit=2");
    expect(res.status).toBe(200);
    expect(res.json()).toEqual({ bars: {}, next_page_token: null });
    const viaSdk = await sdkFor(sim).stockBars({ symbols: "ZZZQ", timeframe: "1Day", start: new Date("2022-02-01T00:00:00Z"), limit: 2 });
    expect(viaSdk).toEqual({ bars: {}, nextPageToken: null });
  });
});

describe("GO recorded responses", () => {
  it("TestGetBars: AMZN 15Min split sip 2021-10-15T16:00Z..17:00Z -> 16:00, 16:15, 16:30, 16:45, 17:00 (end inclusive)", async () => {
    const res = await get("/v2/stocks/bars?symbols=AMZN&timeframe=15Min&adjustment=split&start=2021-10-15T16:00:00Z&end=2021-10-15T17:00:00Z&feed=sip");
    expect(res.status).toBe(200);
    const want = ["16:00", "16:15", "16:30", "16:45", "17:00"].map((hm) => `2021-10-15T${hm}:00Z`);
    expect((res.json().bars as { AMZN: Array<{ t: string }> }).AMZN.map((b) => b.t)).toEqual(want);
    const viaSdk = await sdkFor(sim).stockBars({
      symbols: "AMZN", timeframe: "15Min", adjustment: "split", feed: "sip",
      start: new Date("2021-10-15T16:00:00Z"), end: new Date("2021-10-15T17:00:00Z"),
    });
    expect(viaSdk.bars.AMZN!.map((b) => String(b.t))).toEqual(want);
  });

  it("TestGetBars_Asof: META 1Day from 2022-06-08, asof 2022-06-09, pages of 2 -> 06-08, 06-09 | 06-10, 06-13", async () => {
    const { pages, t } = await walk("/v2/stocks/bars?symbols=META&timeframe=1Day&start=2022-06-08T00:00:00Z&end=2022-06-13T23:00:00Z&limit=2&asof=2022-06-09");
    expect(t.META).toEqual(["2022-06-08T04:00:00Z", "2022-06-09T04:00:00Z", "2022-06-10T04:00:00Z", "2022-06-13T04:00:00Z"]);
    expect(pages[0]!.token).not.toBeNull();
  });

  it("TestGetBars_Adjustment: GE 1Day from 2024-04-01, dividend,spin-off, limit 2 -> the recorded token GE|D|1712116800000000000", async () => {
    const res = await get("/v2/stocks/bars?symbols=GE&timeframe=1Day&start=2024-04-01T00:00:00Z&limit=2&adjustment=dividend%2Cspin-off");
    expect(res.status).toBe(200);
    const body = res.json();
    expect((body.bars as { GE: Array<{ t: string }> }).GE.map((b) => b.t)).toEqual(["2024-04-01T04:00:00Z", "2024-04-02T04:00:00Z"]);
    expect(body.next_page_token).toBe("R0V8RHwxNzEyMTE2ODAwMDAwMDAwMDAw"); // byte for byte the token Alpaca returned
  });

  it("TestGetMultiBars: AAPL,NIO 1Day 2021-10-13T04:00Z..10-17T04:00Z -> three bars each, token null", async () => {
    const res = await get("/v2/stocks/bars?symbols=AAPL%2CNIO&timeframe=1Day&start=2021-10-13T04:00:00Z&end=2021-10-17T04:00:00Z");
    const body = res.json();
    expectMultiBody(body);
    const days = ["2021-10-13T04:00:00Z", "2021-10-14T04:00:00Z", "2021-10-15T04:00:00Z"];
    expect(body.bars).toEqual({ AAPL: expect.any(Array), NIO: expect.any(Array) });
    for (const list of Object.values(body.bars as Record<string, Array<{ t: string }>>)) expect(list.map((b) => b.t)).toEqual(days);
    expect(body.next_page_token).toBeNull();
    const viaSdk = await sdkFor(sim).stockBars({
      symbols: "AAPL,NIO", timeframe: "1Day", start: new Date("2021-10-13T04:00:00Z"), end: new Date("2021-10-17T04:00:00Z"),
    });
    expect(Object.keys(viaSdk.bars)).toEqual(["AAPL", "NIO"]);
  });

  it("marketdata/rest.go get/unmarshal: Accept-Encoding: gzip -> Content-Encoding: gzip, and identity otherwise", async () => {
    const target = "/v2/stocks/bars?symbols=AMZN&timeframe=15Min&start=2021-10-15T16:00:00Z&end=2021-10-15T17:00:00Z";
    const raw = (encoding: string) =>
      new Promise<{ headers: Record<string, unknown>; body: Buffer }>((resolve, reject) => {
        const req = httpRequest(`${sim.url}${target}`, { headers: { ...AUTH, "Accept-Encoding": encoding } }, (res) => {
          const chunks: Buffer[] = [];
          res.on("data", (c: Buffer) => chunks.push(c));
          res.on("end", () => resolve({ headers: res.headers, body: Buffer.concat(chunks) }));
        });
        req.on("error", reject);
        req.end();
      });
    const zipped = await raw("gzip");
    expect(zipped.headers["content-encoding"]).toBe("gzip");
    expect(zipped.headers.vary).toBe("Accept-Encoding");
    const plain = await raw("identity");
    expect(plain.headers["content-encoding"]).toBeUndefined();
    expect(gunzipSync(zipped.body).toString()).toBe(plain.body.toString());
    expect(zipped.body.length).toBeLessThan(plain.body.length);
  });
});

describe("Alpaca's docs and issue trackers", () => {
  it("alpaca-trade-api-python README (TimeFrame(45, Minute), 2021-06-08): 45Min bars at 07:30Z, 08:15Z, 09:00Z, …", async () => {
    // The README's get_bars("AAPL", TimeFrame(45, TimeFrameUnit.Minute), "2021-06-08", "2021-06-08", adjustment='raw').
    const res = await get("/v2/stocks/AAPL/bars?timeframe=45Min&start=2021-06-08&end=2021-06-08&adjustment=raw");
    expect(res.status).toBe(200);
    const readme = ["07:30", "08:15", "09:00", "09:45", "10:30", "11:15", "12:00", "12:45", "13:30", "14:15", "15:00"];
    const t = (res.json().bars as Array<{ t: string }>).map((b) => b.t);
    expect(t.slice(0, readme.length)).toEqual(readme.map((hm) => `2021-06-08T${hm}:00Z`));
    const viaSdk = await sdkFor(sim).stockBarSingle({
      symbol: "AAPL", timeframe: "45Min", adjustment: "raw", start: new Date("2021-06-08T04:00:00Z"), end: new Date("2021-06-09T03:59:59Z"),
    });
    expect(viaSdk.bars.map((b) => b.t.toISOString().replace(".000Z", "Z"))).toEqual(t);
  });

  it("forum 'Candles do not fully respect start and end parameters' ('4H bars … always starting at 4 * n hour (00:00, 04:00, 08:00, etc.)'): 4Hour bars on UTC multiples of 4 h", async () => {
    const { t } = await walk("/v2/stocks/bars?symbols=HLF&timeframe=4H&start=2024-04-15T00:00:00Z&end=2024-04-17T00:00:00Z&feed=sip&limit=5000");
    expect(t.HLF!.length).toBeGreaterThan(4);
    expect(t.HLF!.every((x) => Number(x.slice(11, 13)) % 4 === 0 && x.endsWith(":00:00Z"))).toBe(true);
  });

  it("nginx large_client_header_buffers (8k; alpaca-trade-api-csharp 'Request-URI Too Large'): request line > 8192 bytes -> 414", async () => {
    const prefix = "/v2/stocks/bars?timeframe=1Day&start=2024-03-01T00:00:00Z&end=2024-03-02T00:00:00Z&symbols=";
    const overhead = "GET ".length + " HTTP/1.1\r\n".length;
    const ticker = (i: number) => "A" + [...i.toString(26).padStart(4, "0")].map((c) => String.fromCharCode(65 + parseInt(c, 26))).join("");
    /** A target of exactly `bytes` bytes: five-letter tickers joined by %2C, then one of Z's to fill. */
    const targetOf = (bytes: number) => {
      let s = prefix;
      for (let i = 0; bytes - s.length - 3 > 10; i++) s += `${i ? "%2C" : ""}${ticker(i)}`;
      return `${s}%2C${"Z".repeat(bytes - s.length - 3)}`;
    };
    const fits = targetOf(8192 - overhead);
    const tooLong = targetOf(8193 - overhead);
    expect(fits.length + overhead).toBe(8192);
    expect((await get(fits)).status).not.toBe(414);
    const refused = await get(tooLong);
    expect(refused.status).toBe(414);
    expect(refused.headers.get("content-type")).toBe("text/html");
    expect(refused.text).toContain("<title>414 Request-URI Too Large</title>");
    const symbols = decodeURIComponent(tooLong.slice(prefix.length));
    const err = await sdkFor(sim).stockBars({
      symbols, timeframe: "1Day", start: new Date("2024-03-01T00:00:00Z"), end: new Date("2024-03-02T00:00:00Z"),
    }).catch((e: unknown) => e);
    expect((err as errors.ApiError).status).toBe(414);
  });
});
