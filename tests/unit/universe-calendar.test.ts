/**
 * The pure parts of the universe and calendar work: stable baskets, the
 * universe filters, the rule fallback for years Alpaca's calendar does not
 * answer, and why a trading day has no bars.
 */
import { describe, expect, it } from "vitest";
import { fetchSessions } from "../../scripts/jobs/calendar-cache.ts";
import { whyMissing } from "../../scripts/jobs/gaps-reasons.ts";
import { selectUniverse, stableBaskets } from "../../scripts/jobs/universe.ts";
import { alpacaCalendarDays, parseDay, sessionBounds } from "../../scripts/lib/market-calendar/index.ts";
import type { AlpacaAsset, AlpacaTradingClient } from "../../supabase/functions/_shared/alpaca/trading.ts";

const asset = (symbol: string, over: Partial<AlpacaAsset> = {}): AlpacaAsset =>
  ({ symbol, name: symbol, class: "us_equity", exchange: "NYSE", status: "active", tradable: true, ...over });

describe("stableBaskets", () => {
  it("splits in order when nothing exists yet", () => {
    expect(stableBaskets("P", ["A", "B", "C"], 2, []).baskets).toEqual([{ name: "P_1", symbols: ["A", "B"] }, { name: "P_2", symbols: ["C"] }]);
  });

  it("keeps existing baskets whole, numbers new ones after the highest, and reports symbols gone from the filters", () => {
    const existing = [{ name: "P_1", symbols: ["B", "C"] }, { name: "P_3", symbols: ["D"] }];
    const out = stableBaskets("P", ["A", "B", "D", "E", "F"], 2, existing);
    expect(out.baskets).toEqual([...existing, { name: "P_4", symbols: ["A", "E"] }, { name: "P_5", symbols: ["F"] }]);
    expect(out).toMatchObject({ added: ["A", "E", "F"], stale: ["C"] });
  });
});

describe("selectUniverse", () => {
  const list = [asset("MSFT", { exchange: "NASDAQ" }), asset("BRK.B"), asset("OLD", { status: "inactive" }),
    asset("HALT", { tradable: false }), asset("OTCY", { exchange: "OTC" }), asset("BTC/USD", { class: "crypto", exchange: "CRYPTO" }),
    asset("WEIRD.WS.A")];
  const filter = { status: "active", assetClass: "us_equity", exchanges: ["NYSE", "NASDAQ"], tradableOnly: true } as const;

  it("keeps what passes, sorted, and leaves out symbols that are not stock tickers (naming them)", () => {
    expect(selectUniverse(list, filter)).toEqual({ listed: 7, symbols: ["BRK.B", "MSFT"], notTickers: ["WEIRD.WS.A"] });
    expect(selectUniverse(list, { ...filter, status: "any", tradableOnly: false }).symbols).toEqual(["BRK.B", "HALT", "MSFT", "OLD"]);
  });

  it("refuses a filter that leaves nothing, and listed symbols that do not pass, saying why", () => {
    expect(() => selectUniverse(list, { ...filter, exchanges: ["BATS"] })).toThrow(/no asset passes the filters .* out of 7 listed/);
    expect(() => selectUniverse(list, { ...filter, only: ["MSFT", "OLD", "NONE"] }))
      .toThrow(/OLD \(inactive, tradable, NYSE\), NONE \(not in Alpaca's asset list\)/);
  });
});

describe("fetchSessions", () => {
  it("takes Alpaca's answer, and the rules only for a year where Alpaca has no session", async () => {
    const client: AlpacaTradingClient = {
      listAssets: () => Promise.resolve([]),
      // Like Alpaca's calendar, which ends in 2029.
      calendar: (first) => Promise.resolve(alpacaCalendarDays(parseDay(first)!, parseDay("2029-12-31")!)),
    };
    const rows = await fetchSessions(client, parseDay("2029-12-27")!, parseDay("2030-01-04")!);
    expect(rows.map((r) => `${r.date} ${r.source}`)).toEqual([
      "2029-12-27 alpaca", "2029-12-28 alpaca", "2029-12-31 alpaca", "2030-01-02 rules", "2030-01-03 rules", "2030-01-04 rules",
    ]);
  });
});

describe("whyMissing", () => {
  const s = sessionBounds("2024-03-07")!;
  const day = (d: string) => Date.parse(`${d}T05:00:00Z`);
  const run = (from: string, to: string, status = "success") => ({ start: day(from), end: day(to), status, symbols: ["X"] });

  it("names the slice when the session was not fetched, or no slice covers it", () => {
    expect(whyMissing({}, [], s)).toBe("no slice covers this session");
    expect(whyMissing({}, [run("2024-03-07", "2024-03-08", "queued")], s)).toBe("not fetched yet: slice queued");
    // Two successful halves cover it together.
    const halves = [{ ...run("2024-03-07", "2024-03-08"), end: s.regularOpen }, { ...run("2024-03-07", "2024-03-08"), start: s.regularOpen }];
    expect(whyMissing({ firstBarDay: "2024-03-01", lastBarDay: "2024-03-08" }, halves, s)).toBe("no data from Alpaca for this day (slice succeeded)");
  });

  it("tells an inactive asset, a later listing and a symbol Alpaca has nothing for apart", () => {
    const done = [run("2024-03-04", "2024-03-09")];
    expect(whyMissing({ asset: { status: "inactive", tradable: false, exchange: "NYSE" }, firstBarDay: "2024-03-04", lastBarDay: "2024-03-06" }, done, s))
      .toBe("asset inactive at Alpaca (delisted or renamed); last bar 2024-03-06");
    expect(whyMissing({ firstBarDay: "2024-03-08", lastBarDay: "2024-03-08" }, done, s)).toBe("before its first bar (2024-03-08): listed later?");
    expect(whyMissing({ asset: { status: "active", tradable: true, exchange: "NYSE" }, firstBarDay: "2024-03-04", lastBarDay: "2024-03-05" }, done, s))
      .toBe("Alpaca has no bars after 2024-03-05 (slice succeeded)");
    expect(whyMissing({}, done, s)).toBe("no data from Alpaca (slice succeeded); not in the cached asset list");
  });
});
