/**
 * The official SDK, unchanged, paging through the simulator; results compared with ground truth.
 * Pages here are exact (every page `limit` rows, no empty tail) so their shape can be asserted;
 * the short pages and empty tails Alpaca may also send are covered in contract.test.ts and pages.test.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { expectedBars } from "../../../scripts/alpaca-sim/ground-truth.ts";
import type { AlpacaSim } from "../../../scripts/alpaca-sim/index.ts";
import { decodePageToken } from "../../../scripts/alpaca-sim/tokens.ts";
import { collectMulti, collectSingle, type CollectedPages, sdkFor, SIM_NOW, type SdkQuery, startTestSim } from "./sim-helpers.ts";

let sim: AlpacaSim;
beforeAll(async () => {
  sim = await startTestSim({ pageVariation: false });
});
afterAll(() => sim.close());

const truth = (q: SdkQuery) => [...expectedBars({ ...q, now: SIM_NOW })];

/** Invariants of any complete walk: full pages, unique tokens that point at the next page's first row. */
function expectWellFormedPages(c: CollectedPages, limit: number) {
  const sizes = c.pages.map((p) => Object.values(p.counts).reduce((a, b) => a + b, 0));
  sizes.slice(0, -1).forEach((n) => expect(n).toBe(limit));
  expect(c.pages.at(-1)!.token).toBeNull();
  const tokens = c.pages.slice(0, -1).map((p) => p.token!);
  expect(new Set(tokens).size).toBe(tokens.length);
  let offset = 0;
  c.pages.slice(0, -1).forEach((p, i) => {
    offset += sizes[i]!;
    const decoded = decodePageToken(p.token!)!;
    const first = c.bars[offset]!;
    expect(decoded.symbol).toBe(first.symbol);
    expect(new Date(decoded.t).toISOString().slice(0, 19) + "Z").toBe(first.t);
  });
}

describe("multi-symbol endpoint through the SDK", () => {
  const cases: Array<[number, SdkQuery]> = [
    [1, { symbols: ["SPY", "BRK.B", "ZZZQ"], timeframe: "1Min", start: "2024-03-05T14:30:00Z", end: "2024-03-05T14:49:00Z" }],
    [7, { symbols: ["CCI", "AAPL"], timeframe: "5Min", start: "2024-03-05T00:00:00Z", end: "2024-03-06T04:00:00Z" }],
    [500, { symbols: ["AAPL", "MSFT", "NVDA"], timeframe: "1Min", start: "2024-03-05T14:30:00Z", end: "2024-03-05T20:59:00Z" }],
    [10_000, { symbols: ["AAPL", "BRK.B", "CCI", "MSFT", "SRE", "XOM"], timeframe: "1Min", start: "2024-03-04T00:00:00Z", end: "2024-03-09T00:00:00Z" }],
  ];

  it.each(cases)("pages with limit %i exactly as ground truth", async (limit, q) => {
    const got = await collectMulti(sdkFor(sim), { ...q, limit });
    const want = truth(q);
    expect(want.length).toBeGreaterThan(limit === 10_000 ? 20_000 : limit * 2);
    expect(got.bars).toEqual(want);
    expectWellFormedPages(got, limit);
  });

  it("splits symbols across pages like Alpaca (limit is a total, symbols in order)", async () => {
    const got = await collectMulti(sdkFor(sim), { ...cases[2]![1], limit: 500 });
    expect(got.pages.map((p) => p.counts)).toEqual([
      { AAPL: 390, MSFT: 110 },
      { MSFT: 280, NVDA: 220 },
      { NVDA: 170 },
    ]);
  });

  it("sorts time descending within ascending symbols when sort=desc", async () => {
    const q: SdkQuery = { symbols: ["MSFT", "AAPL"], timeframe: "1Min", start: "2024-03-05T14:30:00Z", end: "2024-03-05T16:00:00Z", sort: "desc" };
    const got = await collectMulti(sdkFor(sim), { ...q, limit: 50 });
    expect(got.bars).toEqual(truth(q));
    expect(got.bars[0]).toMatchObject({ symbol: "AAPL", t: "2024-03-05T16:00:00Z" });
    expect(got.bars.at(-1)).toMatchObject({ symbol: "MSFT", t: "2024-03-05T14:30:00Z" });
  });

  it("omits symbols without data and answers an empty range with {bars:{}, next_page_token:null}", async () => {
    const q: SdkQuery = { symbols: ["ZZZA", "AAPL", "FB"], timeframe: "1Hour", start: "2024-03-05T00:00:00Z", end: "2024-03-06T00:00:00Z" };
    const got = await collectMulti(sdkFor(sim), q);
    expect(Object.keys(got.pages[0]!.counts)).toEqual(["AAPL"]);
    const res = await fetch(`${sim.url}/v2/stocks/bars?symbols=AAPL&timeframe=1Min&start=2024-03-09T02:00:00Z&end=2024-03-10T23:00:00Z`, {
      headers: { "APCA-API-KEY-ID": "SIMKEY00000000000000", "APCA-API-SECRET-KEY": "simsecret0000000000000000000000000000000" },
    });
    expect(await res.text()).toBe('{"bars":{},"next_page_token":null}');
  });
});

describe("single-symbol endpoint through the SDK", () => {
  it("pages a symbol with a dot exactly as ground truth", async () => {
    const q = { timeframe: "1Min", start: "2024-03-05T00:00:00Z", end: "2024-03-06T23:59:59Z", limit: 1000 };
    const got = await collectSingle(sdkFor(sim), "BRK.B", q);
    const want = truth({ ...q, symbols: ["BRK.B"] });
    expect(want.length).toBeGreaterThan(1500);
    expect(got.bars).toEqual(want);
    expectWellFormedPages(got, 1000);
  });

  it('answers an empty range with "bars": null (the SDK maps it to [])', async () => {
    const url = `${sim.url}/v2/stocks/AAPL/bars?timeframe=1Day&start=2024-07-04T00:00:00Z&end=2024-07-04T23:00:00Z`;
    const res = await fetch(url, {
      headers: { "APCA-API-KEY-ID": "SIMKEY00000000000000", "APCA-API-SECRET-KEY": "simsecret0000000000000000000000000000000" },
    });
    expect(await res.json()).toEqual({ bars: null, next_page_token: null, symbol: "AAPL" });
    const viaSdk = await sdkFor(sim).stockBarSingle({
      symbol: "AAPL",
      timeframe: "1Day",
      start: new Date("2024-07-04T00:00:00Z"),
      end: new Date("2024-07-04T23:00:00Z"),
    });
    expect(viaSdk.bars).toEqual([]);
    expect(viaSdk.nextPageToken).toBeNull();
  });
});

describe("response metadata", () => {
  it("sends X-RateLimit-* and X-Request-ID on success", async () => {
    const res = await sdkFor(sim).stockBarsRaw({
      symbols: "AAPL",
      timeframe: "1Day",
      start: new Date("2024-03-01T00:00:00Z"),
      end: new Date("2024-03-08T00:00:00Z"),
    });
    expect(Number(res.raw.headers.get("X-RateLimit-Limit"))).toBe(100_000);
    expect(Number(res.raw.headers.get("X-RateLimit-Remaining"))).toBeGreaterThan(0);
    expect(Number(res.raw.headers.get("X-RateLimit-Reset"))).toBeGreaterThan(Date.now() / 1000 - 1);
    expect(res.raw.headers.get("X-Request-ID")).toMatch(/^\w+$/);
  });

  it("answers concurrent requests exactly like sequential ones", async () => {
    const q: SdkQuery = { symbols: ["AAPL", "MSFT"], timeframe: "1Min", start: "2024-03-05T14:30:00Z", end: "2024-03-05T20:59:00Z", limit: 100 };
    const runs = await Promise.all(Array.from({ length: 6 }, () => collectMulti(sdkFor(sim), q)));
    for (const r of runs) expect(r.bars).toEqual(truth(q));
  });
});
