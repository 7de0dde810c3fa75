/** The simulator's data model: what exists when, and that the server serves exactly the ground truth. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { countBars, expectedBars, type ExpectedBar, type GroundTruthQuery } from "../../../scripts/alpaca-sim/ground-truth.ts";
import { type AlpacaSim, DEFAULT_SIM_KEY_ID, DEFAULT_SIM_SECRET } from "../../../scripts/alpaca-sim/index.ts";
import { collectMulti, sdkFor, SIM_NOW, startTestSim, testRandom } from "./sim-helpers.ts";

let sim: AlpacaSim;
beforeAll(async () => {
  sim = await startTestSim();
});
afterAll(() => sim.close());

const bars = (q: Omit<GroundTruthQuery, "now">): ExpectedBar[] => [...expectedBars({ ...q, now: SIM_NOW })];
const count = (q: Omit<GroundTruthQuery, "now">) => countBars({ ...q, now: SIM_NOW });

describe("server output equals ground truth", () => {
  const POOL = ["AAPL", "BRK.B", "CCI", "F", "GE", "JPM", "MSFT", "NVDA", "SRE", "TSLA", "XOM", "ZZZX"];
  const TIMEFRAMES = ["1Min", "5Min", "15Min", "1Hour", "2Hour", "4Hour", "1Day"];
  /** Ranges chosen to cross a holiday, a DST change or a half day. */
  const WINDOWS: Array<[string, string]> = [
    ["2024-07-01T00:00:00Z", "2024-07-09T00:00:00Z"], // July 3 half day, July 4 holiday
    ["2024-03-06T00:00:00Z", "2024-03-14T00:00:00Z"], // DST starts March 10
    ["2023-10-30T00:00:00Z", "2023-11-08T00:00:00Z"], // DST ends November 5
    ["2024-11-25T00:00:00Z", "2024-12-03T00:00:00Z"], // Thanksgiving + half day
    ["2022-06-01T00:00:00Z", "2022-06-22T00:00:00Z"], // FB->META rename, first Juneteenth
  ];
  const rnd = testRandom(20240705);
  const cases = Array.from({ length: 10 }, (_, i) => {
    const basket = POOL.filter(() => rnd() < 0.35).concat(i % 2 === 0 ? ["BRK.B"] : []);
    const [start, end] = WINDOWS[i % WINDOWS.length]!;
    const timeframe = TIMEFRAMES[Math.floor(rnd() * TIMEFRAMES.length)]!;
    const shift = Math.floor(rnd() * 48) * 3_600_000;
    return {
      symbols: [...new Set(basket.some((s) => !s.startsWith("ZZZ")) ? basket : [...basket, "AAPL"])],
      timeframe: timeframe === "1Min" && i % 3 ? "5Min" : timeframe,
      start: new Date(Date.parse(start) + shift).toISOString(),
      end: new Date(Date.parse(end) - shift / 2).toISOString(),
      limit: 500 + Math.floor(rnd() * 9500),
      feed: i % 4 === 3 ? ("iex" as const) : undefined,
    };
  });

  cases.push(
    { symbols: ["AAPL", "BRK.B"], timeframe: "1Week", start: "2023-12-01T00:00:00Z", end: "2024-03-01T00:00:00Z", limit: 5, feed: undefined },
    { symbols: ["MSFT", "BRK.B"], timeframe: "3Month", start: "2020-01-01T00:00:00Z", end: "2024-12-31T00:00:00Z", limit: 7, feed: undefined },
  );

  it.each(cases)("basket $symbols $timeframe from $start to $end", async (q) => {
    const got = await collectMulti(sdkFor(sim), q);
    expect(got.bars.length).toBeGreaterThan(0);
    expect(got.bars).toEqual(bars(q));
  });
});

describe("market calendar in the data", () => {
  it("has no bars on holidays or weekends", () => {
    expect(count({ symbols: ["AAPL", "MSFT"], timeframe: "1Min", start: "2024-07-04", end: "2024-07-04" })).toBe(0);
    expect(count({ symbols: ["AAPL"], timeframe: "1Min", start: "2024-03-29", end: "2024-03-31" })).toBe(0);
    expect(count({ symbols: ["AAPL"], timeframe: "1Day", start: "2024-12-23", end: "2024-12-27" })).toBe(4);
  });

  it("keeps sessions at 04:00–20:00 New York across the March DST change", () => {
    const friday = bars({ symbols: ["AAPL"], timeframe: "1Min", start: "2024-03-08", end: "2024-03-08" });
    const monday = bars({ symbols: ["AAPL"], timeframe: "1Min", start: "2024-03-11", end: "2024-03-11" });
    expect(friday[0]!.t >= "2024-03-08T09:00:00Z" && friday.at(-1)!.t <= "2024-03-09T00:59:00Z").toBe(true);
    expect(monday[0]!.t >= "2024-03-11T08:00:00Z" && monday.at(-1)!.t <= "2024-03-11T23:59:00Z").toBe(true);
    const days = bars({ symbols: ["AAPL"], timeframe: "1Day", start: "2024-03-07", end: "2024-03-12" }).map((b) => b.t);
    expect(days).toEqual(["2024-03-07T05:00:00Z", "2024-03-08T05:00:00Z", "2024-03-11T04:00:00Z", "2024-03-12T04:00:00Z"]);
  });

  it("closes half days at 13:00 (210 regular minutes) and their extended session at 17:00", () => {
    const regular = count({ symbols: ["AAPL"], timeframe: "1Min", start: "2024-11-29T14:30:00Z", end: "2024-11-29T17:59:00Z" });
    expect(regular).toBe(210);
    expect(count({ symbols: ["AAPL"], timeframe: "1Min", start: "2024-11-29T22:00:00Z", end: "2024-11-30T04:00:00Z" })).toBe(0);
  });

  it("fills every regular minute of liquid names, fewer of thin ones, and IEX fewer still", () => {
    const q = { timeframe: "1Min", start: "2024-03-05T14:30:00Z", end: "2024-03-05T20:59:00Z" };
    for (const s of ["AAPL", "MSFT", "NVDA", "SPY"]) expect(count({ ...q, symbols: [s] })).toBe(390);
    const sip = bars({ ...q, symbols: ["CCI", "SRE", "XOM", "F"] });
    const iex = bars({ ...q, symbols: ["CCI", "SRE", "XOM", "F"], feed: "iex" });
    expect(iex.length).toBeLessThan(sip.length);
    expect(iex.length).toBeGreaterThan(sip.length * 0.4);
    const sipKeys = new Set(sip.map((b) => b.symbol + b.t));
    expect(iex.every((b) => sipKeys.has(b.symbol + b.t))).toBe(true);
    const sipVolume = sip.reduce((a, b) => a + b.v, 0);
    expect(iex.reduce((a, b) => a + b.v, 0)).toBeLessThan(sipVolume * 0.05);
    const extended = count({ symbols: ["AAPL"], timeframe: "1Min", start: "2024-03-05", end: "2024-03-05" });
    expect(extended / 390).toBeGreaterThan(2); // ≈2.35× with pre/post market
  });
});

describe("bar values", () => {
  it("keep o, c and vw within [l, h], integer v and n, prices ≤ 4 dp", () => {
    const all = bars({ symbols: ["AAPL", "F", "BRK.B"], timeframe: "1Min", start: "2024-03-04", end: "2024-03-06" });
    for (const b of all) {
      expect(b.l <= Math.min(b.o, b.c, b.vw) && Math.max(b.o, b.c, b.vw) <= b.h).toBe(true);
      expect(Number.isInteger(b.v) && Number.isInteger(b.n) && b.n >= 1 && b.n <= b.v).toBe(true);
      for (const p of [b.o, b.h, b.l, b.c]) expect(Math.round(p * 1e4) / 1e4).toBe(p);
    }
  });

  it("aggregate minutes into intraday buckets (5Min = Σ 1Min)", () => {
    const q = { symbols: ["JPM"], start: "2024-03-05", end: "2024-03-05" };
    const minutes = bars({ ...q, timeframe: "1Min" });
    const five = bars({ ...q, timeframe: "5Min" });
    const at1405 = minutes.filter((b) => b.t >= "2024-03-05T14:05:00Z" && b.t < "2024-03-05T14:10:00Z");
    const bar1405 = five.find((b) => b.t === "2024-03-05T14:05:00Z")!;
    expect(bar1405.v).toBe(at1405.reduce((a, b) => a + b.v, 0));
    expect(bar1405.o).toBe(at1405[0]!.o);
    expect(bar1405.c).toBe(at1405.at(-1)!.c);
    expect(bar1405.h).toBe(Math.max(...at1405.map((b) => b.h)));
    expect(five.reduce((a, b) => a + b.v, 0)).toBe(minutes.reduce((a, b) => a + b.v, 0));
  });

  it("make daily bars agree with the minutes: regular-session open/close, volume close to Σ 1Min", () => {
    const q = { symbols: ["AAPL"], start: "2024-03-05", end: "2024-03-05" };
    const minutes = bars({ ...q, timeframe: "1Min" });
    const [day] = bars({ ...q, timeframe: "1Day" });
    expect(day!.t).toBe("2024-03-05T05:00:00Z");
    const regular = minutes.filter((b) => b.t >= "2024-03-05T14:30:00Z" && b.t < "2024-03-05T21:00:00Z");
    expect(day!.o).toBe(regular[0]!.o);
    expect(day!.c).toBe(regular.at(-1)!.c);
    const minuteVolume = minutes.reduce((a, b) => a + b.v, 0);
    expect(Math.abs(day!.v / minuteVolume - 1)).toBeLessThan(0.2);
    const week = bars({ symbols: ["AAPL"], timeframe: "1Week", start: "2024-03-04", end: "2024-03-08" });
    const days = bars({ symbols: ["AAPL"], timeframe: "1Day", start: "2024-03-04", end: "2024-03-08" });
    expect(week).toEqual([{
      symbol: "AAPL", t: "2024-03-04T05:00:00Z", o: days[0]!.o, c: days[4]!.c,
      h: Math.max(...days.map((d) => d.h)), l: Math.min(...days.map((d) => d.l)),
      v: days.reduce((a, d) => a + d.v, 0), n: days.reduce((a, d) => a + d.n, 0), vw: week[0]!.vw,
    }]);
  });

  it("adjusts for splits (price ÷ ratio, volume × ratio) and dividends (price only)", () => {
    const q = { symbols: ["AAPL"], timeframe: "1Day", start: "2020-08-27", end: "2020-08-31" };
    const raw = bars(q);
    expect(bars({ ...q, adjustment: "raw" })).toEqual(raw);
    const split = bars({ ...q, adjustment: "split" });
    expect(raw[0]!.c / raw.at(-1)!.o).toBeGreaterThan(3.5); // 4-for-1 on 2020-08-31
    expect(split[0]!.c / split.at(-1)!.o).toBeLessThan(1.2);
    expect(split[0]!.v).toBe(raw[0]!.v * 4);
    expect(split.at(-1)).toEqual(raw.at(-1)); // on and after the ex-date nothing changes
    const dividend = bars({ ...q, adjustment: "dividend" });
    expect(dividend[0]!.v).toBe(raw[0]!.v);
    expect(dividend[0]!.c).toBeLessThan(raw[0]!.c);
    const all = bars({ ...q, adjustment: "all" });
    expect(bars({ ...q, adjustment: "split,dividend,spin-off" })).toEqual(all);
  });

  it("maps renamed tickers through asof (FB history shows under META)", () => {
    const q = { timeframe: "1Day", start: "2022-06-06", end: "2022-06-10" };
    const meta = bars({ ...q, symbols: ["META"] });
    expect(meta.map((b) => b.t.slice(0, 10))).toEqual(["2022-06-06", "2022-06-07", "2022-06-08", "2022-06-09", "2022-06-10"]);
    expect(bars({ ...q, symbols: ["META"], asof: "-" })).toHaveLength(2);
    expect(bars({ ...q, symbols: ["FB"] })).toHaveLength(0);
    const fbThen = bars({ ...q, symbols: ["FB"], asof: "2021-01-04" });
    expect(fbThen.map(({ symbol: _s, ...v }) => v)).toEqual(meta.map(({ symbol: _s, ...v }) => v));
  });

  it("has no bars for unfinished buckets or the future", () => {
    const end = new Date(SIM_NOW.getTime() + 86_400_000).toISOString();
    const last = bars({ symbols: ["AAPL"], timeframe: "1Hour", start: "2025-06-30T00:00:00Z", end, feed: "iex" }).at(-1)!;
    expect(Date.parse(last.t) + 3_600_000).toBeLessThanOrEqual(SIM_NOW.getTime());
  });
});

describe("date-only bounds", () => {
  it("mean the whole New York day on the wire", async () => {
    const res = await fetch(`${sim.url}/v2/stocks/bars?symbols=AAPL&timeframe=1Min&start=2024-03-05&end=2024-03-05&limit=10000`, {
      headers: { "APCA-API-KEY-ID": DEFAULT_SIM_KEY_ID, "APCA-API-SECRET-KEY": DEFAULT_SIM_SECRET },
    });
    const body = (await res.json()) as { bars: { AAPL: Array<{ t: string }> } };
    const want = bars({ symbols: ["AAPL"], timeframe: "1Min", start: "2024-03-05", end: "2024-03-05" });
    expect(body.bars.AAPL.map((b) => b.t)).toEqual(want.map((b) => b.t));
    expect(want[0]!.t).toBe("2024-03-05T09:00:00Z");
    expect(want.at(-1)!.t <= "2024-03-06T00:59:00Z").toBe(true);
  });
});
