/**
 * The simulator's Trading API (`GET /v2/assets`, `GET /v2/calendar`) against
 * what Alpaca publishes, each test naming its source, then through the
 * official SDK v4 (`trading.AssetsApi.getV2Assets`, `trading.CalendarApi.legacyCalendar`).
 *
 * SPEC = alpacahq/alpaca-trade-api-js tooling/specs/trading-api.json (the SDK's
 *        trading/models/Assets.ts, LegacyCalendarDay.ts, Exchange.ts are generated from it)
 * REC  = recorded responses in public client tests: `{"code":40110000,"message":"request is not authorized"}`
 *        (trading 401), `{"code":40310000,"message":"request is forbidden"}` (trading 403),
 *        `{"code":42210000,"message":…}` (trading 422), calendar rows
 *        `{"close":"16:00","date":…,"open":"09:30","session_close":"2000","session_open":"0400","settlement_date":…}`
 *        and `"close":"13:00"`, `"session_close":"1700"` on half days.
 */
import { errors, trading } from "@alpacahq/alpaca-trade-api";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { expectedBars } from "../../../scripts/alpaca-sim/ground-truth.ts";
import { type AlpacaSim, DEFAULT_SIM_KEY_ID, DEFAULT_SIM_SECRET } from "../../../scripts/alpaca-sim/index.ts";
import { US_BATCH_1, US_BATCH_2 } from "../../../scripts/lib/seed-baskets.ts";
import { nyDay, sessionBounds } from "../../../scripts/lib/market-calendar/index.ts";
import { SIM_NOW, startTestSim } from "./sim-helpers.ts";

const AUTH = { "APCA-API-KEY-ID": DEFAULT_SIM_KEY_ID, "APCA-API-SECRET-KEY": DEFAULT_SIM_SECRET };

let sim: AlpacaSim;
beforeAll(async () => {
  sim = await startTestSim();
});
afterAll(() => sim.close());

async function get(target: string, headers: Record<string, string> = AUTH, base = sim.tradingUrl) {
  const res = await fetch(`${base}${target}`, { headers });
  const text = await res.text();
  return { status: res.status, headers: res.headers, text, json: () => JSON.parse(text) as unknown };
}

function sdk(base = sim.tradingUrl) {
  const configuration = new trading.Configuration({ basePath: base, keyId: DEFAULT_SIM_KEY_ID, secret: DEFAULT_SIM_SECRET });
  return { assets: new trading.AssetsApi(configuration), calendar: new trading.CalendarApi(configuration) };
}

type Asset = Record<string, unknown> & { symbol: string; status: string; tradable: boolean; exchange: string; class: string };
const assets = async (query = "") => (await get(`/v2/assets${query}`)).json() as Asset[];

describe("auth: the Trading API's JSON errors, not the data host's nginx pages", () => {
  it("answers a missing or wrong key with 401 {code: 40110000, message} (REC), where the data host sends HTML", async () => {
    for (const headers of [{}, { ...AUTH, "APCA-API-SECRET-KEY": "wrong" }]) {
      const res = await get("/v2/assets", headers);
      expect(res.status).toBe(401);
      expect(res.headers.get("content-type")).toMatch(/^application\/json/);
      expect(res.json()).toEqual({ code: 40110000, message: "request is not authorized" });
    }
    const bars = await get("/v2/stocks/bars?symbols=AAPL&timeframe=1Day", {}, sim.url);
    expect(bars.status).toBe(401);
    expect(bars.headers.get("content-type")).toMatch(/^text\/html/);
  });

  it("with authFailureStatus 403: {code: 40310000, message: \"request is forbidden\"} (REC), where the data host sends nginx's 403 page", async () => {
    const strict = await startTestSim({ authFailureStatus: 403 });
    try {
      const res = await get("/v2/assets", {}, strict.tradingUrl);
      expect(res.status).toBe(403);
      expect(res.json()).toEqual({ code: 40310000, message: "request is forbidden" });
      const bars = await get("/v2/stocks/bars?symbols=AAPL&timeframe=1Day", {}, strict.url);
      expect(bars.status).toBe(403);
      expect(bars.text).toContain("403 Forbidden");
    } finally {
      await strict.close();
    }
  });

  it("the SDK turns the 401 into an AuthError and a 422 into a ValidationError", async () => {
    const bad = new trading.AssetsApi(new trading.Configuration({ basePath: sim.tradingUrl, keyId: "nope", secret: "nope" }));
    await expect(bad.getV2Assets({})).rejects.toBeInstanceOf(errors.AuthError);
    const err = await sdk().assets.getV2Assets({ exchange: "MOON" }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(errors.ValidationError);
    expect(err).toMatchObject({ status: 422, code: 42210000 });
  });
});

describe("SPEC paths./v2/assets (schemas.Assets; parameters status, asset_class, exchange, attributes)", () => {
  it("serves every required field of Assets, and the SDK parses the list", async () => {
    const list = await assets();
    const required = ["class", "exchange", "fractionable", "id", "marginable", "name", "shortable", "status", "symbol", "tradable"];
    for (const a of list) {
      for (const k of required) expect(a).toHaveProperty(k);
      expect(a.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    }
    const viaSdk = await sdk().assets.getV2Assets({});
    expect(viaSdk.map((a) => [a.symbol, a._class, a.exchange, a.status, a.tradable]))
      .toEqual(list.map((a) => [a.symbol, a.class, a.exchange, a.status, a.tradable]));
  });

  it("holds the seed's symbols, class suffixes, inactive, OTC and non-tradable assets; crypto only when asked", async () => {
    const all = await assets();
    const bySymbol = new Map(all.map((a) => [a.symbol, a]));
    for (const s of [...US_BATCH_1, ...US_BATCH_2]) expect(bySymbol.get(s)).toMatchObject({ status: "active", tradable: true });
    expect(bySymbol.get("BRK.B")).toMatchObject({ exchange: "NYSE" });
    expect(bySymbol.get("FB")).toMatchObject({ status: "inactive", tradable: false });
    expect(bySymbol.get("DLST")).toMatchObject({ status: "inactive" });
    expect(all.some((a) => a.exchange === "OTC")).toBe(true);
    expect(all.some((a) => a.status === "active" && !a.tradable)).toBe(true);
    // SPEC: asset_class defaults to us_equity.
    expect(all.every((a) => a.class === "us_equity")).toBe(true);
    expect((await assets("?asset_class=crypto")).map((a) => a.symbol)).toEqual(["BTC/USD", "ETH/USD"]);
  });

  it("filters by status (all statuses when absent), exchange and attributes (any of them)", async () => {
    const all = await assets();
    expect(new Set(all.map((a) => a.status))).toEqual(new Set(["active", "inactive"]));
    expect(await assets("?status=active")).toEqual(all.filter((a) => a.status === "active"));
    expect(await assets("?status=inactive")).toEqual(all.filter((a) => a.status === "inactive"));
    for (const exchange of ["NYSE", "NASDAQ", "ARCA", "AMEX", "BATS", "OTC"]) {
      const got = await assets(`?exchange=${exchange}`);
      expect(got.length).toBeGreaterThan(0);
      expect(got).toEqual(all.filter((a) => a.exchange === exchange));
    }
    const withOptions = await assets("?attributes=has_options,ipo");
    expect(withOptions).toEqual(all.filter((a) => (a.attributes as string[]).some((x) => x === "has_options" || x === "ipo")));
    // The SDK joins attributes with commas itself.
    expect((await sdk().assets.getV2Assets({ attributes: ["has_options"] })).length).toBe(withOptions.length);
  });

  it("refuses values outside the SDK's enums and unknown parameters with 422 {code: 42210000}", async () => {
    for (const q of ["?exchange=MOON", "?status=gone", "?asset_class=stocks", "?attributes=cheap", "?limit=5"]) {
      const res = await get(`/v2/assets${q}`);
      expect(res.status, q).toBe(422);
      expect(res.json()).toMatchObject({ code: 42210000 });
    }
  });

  it("grows: a listing added later appears, and nothing else changes", async () => {
    const grown = await startTestSim();
    try {
      const before = (await fetch(`${grown.tradingUrl}/v2/assets`, { headers: AUTH }).then((r) => r.json())) as Asset[];
      grown.addAssets([{ symbol: "ZNEW", exchange: "NASDAQ" }]);
      const after = (await fetch(`${grown.tradingUrl}/v2/assets`, { headers: AUTH }).then((r) => r.json())) as Asset[];
      expect(after.filter((a) => a.symbol !== "ZNEW")).toEqual(before);
      expect(after.find((a) => a.symbol === "ZNEW")).toMatchObject({ status: "active", tradable: true, exchange: "NASDAQ" });
    } finally {
      await grown.close();
    }
  });
});

describe("SPEC paths./v2/calendar (schemas.LegacyCalendarDay; legacy_start, legacy_end, legacy_date_type)", () => {
  it("serves {close, date, open, session_close, session_open, settlement_date} with Alpaca's time formats (REC)", async () => {
    const rows = (await get("/v2/calendar?start=2024-11-25&end=2024-12-02")).json() as Array<Record<string, string>>;
    expect(rows.map((r) => Object.keys(r).sort().join())).toEqual(
      Array(5).fill("close,date,open,session_close,session_open,settlement_date"),
    );
    // Thanksgiving (11-28) has no row; the day after closes early.
    expect(rows.map((r) => r.date)).toEqual(["2024-11-25", "2024-11-26", "2024-11-27", "2024-11-29", "2024-12-02"]);
    expect(rows[0]).toEqual({
      close: "16:00", date: "2024-11-25", open: "09:30", session_close: "2000", session_open: "0400", settlement_date: "2024-11-26",
    });
    expect(rows[3]).toMatchObject({ close: "13:00", session_close: "1700", settlement_date: "2024-12-02" });
  });

  it("is exactly the calendar the bars come from, and the SDK reads it (it sends ISO instants)", async () => {
    const viaSdk = await sdk().calendar.legacyCalendar({
      start: new Date("2024-03-01T12:00:00Z"), end: new Date("2024-03-31T12:00:00Z"),
    });
    const ruled: string[] = [];
    for (let d = 1; d <= 31; d++) {
      const s = sessionBounds(`2024-03-${String(d).padStart(2, "0")}`);
      if (s) ruled.push(`${s.day} ${s.halfDay ? "13:00" : "16:00"}`);
    }
    expect(viaSdk.map((r) => `${r.date.toISOString().slice(0, 10)} ${r.close}`)).toEqual(ruled);
    // Good Friday 2024-03-29: no session, so no bars.
    expect(ruled.some((r) => r.startsWith("2024-03-29"))).toBe(false);
    expect([...expectedBars({ symbols: ["AAPL"], timeframe: "1Day", start: "2024-03-29", end: "2024-03-29", now: SIM_NOW })]).toEqual([]);
  });

  it("SPEC legacy_date_type SETTLEMENT selects by settlement date (T+2 before 2024-05-28, T+1 from then)", async () => {
    const rows = (await get("/v2/calendar?start=2024-05-28&end=2024-05-29&date_type=SETTLEMENT")).json() as Array<Record<string, string>>;
    expect(rows.map((r) => `${r.date}>${r.settlement_date}`)).toEqual(["2024-05-23>2024-05-28", "2024-05-24>2024-05-29", "2024-05-28>2024-05-29"]);
  });

  it("refuses an inverted range (422), an unparseable date (400) and unknown parameters (422)", async () => {
    expect((await get("/v2/calendar?start=2024-03-08&end=2024-03-04")).status).toBe(422);
    const bad = await get("/v2/calendar?start=yesterday");
    expect(bad.status).toBe(400);
    expect(bad.json()).toMatchObject({ code: 40010000 });
    expect((await get("/v2/calendar?start=2024-03-04&market=NYSE")).status).toBe(422);
  });
});

describe("hosts", () => {
  it("serves the Trading API on a port of its own when asked, and not on the data port then", async () => {
    const split = await startTestSim({ tradingPort: 0 });
    try {
      expect(split.tradingUrl).not.toBe(split.url);
      expect((await get("/v2/calendar?start=2024-03-04&end=2024-03-04", AUTH, split.tradingUrl)).status).toBe(200);
      expect((await get("/v2/calendar?start=2024-03-04&end=2024-03-04", AUTH, split.url)).status).toBe(404);
      expect((await get("/v2/stocks/bars?symbols=AAPL&timeframe=1Day", AUTH, split.tradingUrl)).status).toBe(404);
    } finally {
      await split.close();
    }
  });
});

describe("symbols that stop trading or start later (symbols.ts LISTING_WINDOWS)", () => {
  it("DLST has bars up to its last day and none after; NEWL none before its first day", () => {
    const days = (symbol: string) =>
      [...new Set([...expectedBars({ symbols: [symbol], timeframe: "1Hour", start: "2024-03-04", end: "2024-03-08", now: SIM_NOW })]
        .map((b) => nyDay(Date.parse(b.t))))];
    expect(days("DLST")).toEqual(["2024-03-04", "2024-03-05", "2024-03-06"]);
    expect(days("NEWL")).toEqual(["2024-03-06", "2024-03-07", "2024-03-08"]);
  });
});
