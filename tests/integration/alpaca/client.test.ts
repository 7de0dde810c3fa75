/** The market-data client: boundary validation, configuration, and paging against the simulator. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { expectedBars } from "../../../scripts/alpaca-sim/ground-truth.ts";
import { type AlpacaSim, DEFAULT_SIM_KEY_ID, DEFAULT_SIM_SECRET } from "../../../scripts/alpaca-sim/index.ts";
import {
  type BarRow,
  type BarsQuery,
  createAlpacaBarsClient,
  iterateBarPages,
  MalformedBarError,
  toBarRow,
} from "../../../supabase/functions/_shared/alpaca/index.ts";
import { alpacaConfigFromEnv } from "../../../bench/lib/alpaca-env.ts";
import { toBarRowZod } from "../../../bench/lib/bar-row-zod.ts";
import { PermanentError } from "../../../supabase/functions/_shared/errors.ts";
import { SIM_NOW, startTestSim } from "./sim-helpers.ts";

const GOOD = { t: "2024-03-05T14:30:00Z", o: 175.24, h: 175.32, l: 175.2, c: 175.31, v: 20099, n: 226, vw: 175.300425 };

describe.each([
  ["hand-written guard", toBarRow],
  ["zod schema", toBarRowZod],
])("bar validation (%s)", (_name, validate) => {
  it("maps a raw bar to a row", () => {
    expect(validate("AAPL", "1Min", GOOD)).toEqual({
      symbol: "AAPL", timeframe: "1Min", ts: "2024-03-05T14:30:00Z",
      open: 175.24, high: 175.32, low: 175.2, close: 175.31, volume: 20099, trade_count: 226, vwap: 175.300425,
    });
    expect(validate("AAPL", "1Min", { ...GOOD, t: "2024-03-05T09:30:00.000-05:00" }).ts).toBe("2024-03-05T14:30:00Z");
    expect(validate("AAPL", "1Min", { ...GOOD, t: "2024-02-29T14:30:00Z" }).ts).toBe("2024-02-29T14:30:00Z");
  });

  const { vw: _vw, ...noVwap } = GOOD;
  it.each([
    ["NaN price", { ...GOOD, o: NaN }],
    ["infinite high", { ...GOOD, h: Infinity }],
    ["missing vw", noVwap],
    ["string volume", { ...GOOD, v: "20099" }],
    ["negative volume", { ...GOOD, v: -1 }],
    ["fractional trade count", { ...GOOD, n: 2.5 }],
    ["zero price", { ...GOOD, c: 0 }],
    ["numeric t", { ...GOOD, t: 1709649000 }],
    ["t without zone", { ...GOOD, t: "2024-03-05T14:30:00" }],
    ["t with a space", { ...GOOD, t: "2024-03-05 14:30:00Z" }],
    ["impossible date", { ...GOOD, t: "2024-02-30T14:30:00Z" }],
    ["hour 25", { ...GOOD, t: "2024-03-05T25:30:00Z" }],
    ["letters in the year", { ...GOOD, t: "20ab-03-05T14:30:00Z" }],
    ["Feb 29 of a common year", { ...GOOD, t: "2023-02-29T14:30:00Z" }],
    ["second 60", { ...GOOD, t: "2024-03-05T14:30:60Z" }],
    ["null", null],
    ["array", [GOOD]],
  ])("rejects %s", (_case, raw) => {
    expect(() => validate("AAPL", "1Min", raw)).toThrow(MalformedBarError);
  });
});

describe("alpacaConfigFromEnv", () => {
  it("names every missing variable in one error, never a value", () => {
    const env: Record<string, string> = { ALPACA_DATA_URL: "ftp://nope", APCA_API_SECRET_KEY: " " };
    expect(() => alpacaConfigFromEnv((n) => env[n])).toThrow(
      "Alpaca configuration: APCA_API_KEY_ID is missing; APCA_API_SECRET_KEY is missing; ALPACA_DATA_URL is not an http(s) URL",
    );
  });

  it("reads the keys and an optional base URL", () => {
    const env: Record<string, string> = { APCA_API_KEY_ID: "k", APCA_API_SECRET_KEY: "s", ALPACA_DATA_URL: "http://127.0.0.1:5999/" };
    expect(alpacaConfigFromEnv((n) => env[n])).toEqual({ keyId: "k", secretKey: "s", baseUrl: "http://127.0.0.1:5999" });
    delete env.ALPACA_DATA_URL;
    expect(alpacaConfigFromEnv((n) => env[n]).baseUrl).toBeUndefined();
  });
});

describe("client against the simulator", () => {
  let sim: AlpacaSim;
  beforeAll(async () => {
    sim = await startTestSim();
  });
  afterAll(() => sim.close());

  const client = (acquire?: () => Promise<void>) =>
    createAlpacaBarsClient({ baseUrl: sim.url, keyId: DEFAULT_SIM_KEY_ID, secretKey: DEFAULT_SIM_SECRET, acquire });

  const asRows = (q: BarsQuery): BarRow[] =>
    [...expectedBars({ ...q, now: SIM_NOW })].map((b) => toBarRow(b.symbol, q.timeframe, b));

  async function collect(q: BarsQuery, c = client()) {
    const rows: BarRow[] = [];
    const tokens: Array<string | null> = [];
    for await (const page of iterateBarPages(c, q)) {
      rows.push(...page.bars);
      tokens.push(page.pageToken);
    }
    return { rows, tokens };
  }

  const multi: BarsQuery = {
    endpoint: "multi", symbols: ["NVDA", "BRK.B", "CCI"], timeframe: "1Min",
    start: "2024-03-05T00:00:00Z", end: "2024-03-06T04:59:00Z", limit: 1000,
  };

  it("streams the multi endpoint page by page, equal to ground truth", async () => {
    sim.resetStats();
    const { rows, tokens } = await collect(multi);
    expect(rows).toEqual(asRows(multi));
    expect(tokens[0]).toBeNull();
    expect(tokens.length).toBeGreaterThanOrEqual(Math.ceil(rows.length / 1000));
    expect(sim.stats().byEndpoint).toEqual({ multi: tokens.length, single: 0 });
  });

  it("uses the single endpoint only when asked, with exactly one symbol", async () => {
    sim.resetStats();
    const single: BarsQuery = { ...multi, endpoint: "single", symbols: ["BRK.B"] };
    expect((await collect(single)).rows).toEqual(asRows(single));
    expect(sim.stats().byEndpoint.multi).toBe(0);
    await expect(collect({ ...multi, endpoint: "single" })).rejects.toBeInstanceOf(PermanentError);
    expect(sim.stats().log.every((r) => r.endpoint === "single" && r.symbols.join() === "BRK.B")).toBe(true);
  });

  it("keeps a basket of one symbol on the multi endpoint", async () => {
    sim.resetStats();
    await collect({ ...multi, symbols: ["AAPL"] });
    expect(sim.stats().byEndpoint).toMatchObject({ single: 0 });
    expect(sim.stats().byEndpoint.multi).toBeGreaterThan(0);
  });

  it("resumes from a checkpointed token", async () => {
    const all = asRows(multi);
    const pages = iterateBarPages(client(), multi)[Symbol.asyncIterator]();
    const first = (await pages.next()).value!;
    const second = (await pages.next()).value!;
    const { rows } = await collect({ ...multi, pageToken: second.pageToken });
    expect(rows).toEqual(all.slice(first.bars.length));
  });

  it("awaits the acquire hook before every request", async () => {
    sim.resetStats();
    const seenBefore: number[] = [];
    const { tokens } = await collect(multi, client(async () => {
      await new Promise((r) => setTimeout(r, 5));
      seenBefore.push(sim.stats().requests);
    }));
    expect(seenBefore).toEqual(tokens.map((_, i) => i));
  });

  it("refuses date-only bounds before any I/O", async () => {
    sim.resetStats();
    await expect(collect({ ...multi, start: "2024-03-05" })).rejects.toThrow(/ISO-8601 instant/);
    expect(sim.stats().requests).toBe(0);
  });
});
