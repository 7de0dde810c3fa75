/** Alpaca's error contract as the official SDK sees it: validation, auth, entitlement, rate limit. */
import { errors } from "@alpacahq/alpaca-trade-api";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type AlpacaSim, DEFAULT_SIM_KEY_ID, DEFAULT_SIM_SECRET, startAlpacaSim } from "../../../scripts/alpaca-sim/index.ts";
import { sdkFor, SIM_NOW, startTestSim } from "./sim-helpers.ts";

let sim: AlpacaSim;
beforeAll(async () => {
  sim = await startTestSim();
});
afterAll(() => sim.close());

/** The SDK serialises Dates with toISOString(); this sends any string verbatim. */
const verbatim = (s: string) => ({ toISOString: () => s }) as unknown as Date;

const base = {
  symbols: "AAPL",
  timeframe: "1Min",
  start: new Date("2024-03-05T14:30:00Z"),
  end: new Date("2024-03-05T15:00:00Z"),
};

async function sdkError(params: Record<string, unknown>): Promise<errors.ApiError> {
  try {
    await sdkFor(sim).stockBars({ ...base, ...params } as Parameters<ReturnType<typeof sdkFor>["stockBars"]>[0]);
  } catch (e) {
    if (e instanceof errors.ApiError) return e;
    throw e;
  }
  throw new Error("expected the request to fail");
}

describe("validation errors through the SDK", () => {
  const dateError = (name: string, v: string, go: string) =>
    `Invalid format for parameter ${name}: error parsing '${v}' as RFC3339 or 2006-01-02 time: ${go}`;
  const cases: Array<[string, Record<string, unknown>, number, string]> = [
    ["empty symbols", { symbols: "" }, 400, "Invalid format for parameter symbols: query parameter 'symbols' is required"],
    ["malformed symbol", { symbols: "AAPL,US_BATCH_1" }, 400, "invalid symbol: US_BATCH_1"],
    ["bad timeframe", { timeframe: "3Fortnight" }, 400, "invalid timeframe: 3Fortnight"],
    ["timeframe out of range", { timeframe: "60Min" }, 400, "invalid timeframe: 60Min"],
    ["bad start", { start: verbatim("not-a-date") }, 400,
      dateError("start", "not-a-date", 'parsing time "not-a-date" as "2006-01-02": cannot parse "not-a-date" as "2006"')],
    ["month out of range", { end: verbatim("2024-13-01") }, 400,
      dateError("end", "2024-13-01", 'parsing time "2024-13-01": month out of range')],
    ["end before start", { end: new Date("2024-03-05T14:00:00Z") }, 400, "end should not be before start"],
    ["limit above 10000", { limit: 10_001 }, 400, "invalid limit: limit must be between 1 and 10000"],
    ["limit 0", { limit: 0 }, 400, "invalid limit: limit must be between 1 and 10000"],
    ["delayed_sip feed", { feed: "delayed_sip" }, 400, "invalid feed: delayed_sip"],
    ["bad sort", { sort: "up" }, 400, "invalid sort: up"],
    ["bad adjustment", { adjustment: "split,bogus" }, 400, "invalid adjustment: split,bogus"],
    ["bad page token", { pageToken: "bm9wZQ==" }, 400, "invalid page_token"],
    ["token of another symbol", { pageToken: btoa("MSFT|M|1709649000000000000") }, 400, "invalid page_token"],
  ];

  it.each(cases)("%s -> %i", async (_name, params, status, message) => {
    const err = await sdkError(params);
    expect(err).toBeInstanceOf(errors.ValidationError);
    expect(err.status).toBe(status);
    expect(err.message).toBe(message);
    expect(err.rateLimit?.limit).toBe(100_000); // rate-limit headers ride on 400s too
  });

  it("refuses recent SIP data on the free plan with 403", async () => {
    const recent = new Date(SIM_NOW.getTime() - 5 * 60_000);
    const err = await sdkError({ feed: "sip", start: new Date(SIM_NOW.getTime() - 3_600_000), end: recent });
    expect(err).toBeInstanceOf(errors.PermissionError);
    expect(err.status).toBe(403);
    expect(err.message).toContain("subscription does not permit querying recent SIP data");
  });

  it("rejects unknown query parameters", async () => {
    const res = await fetch(`${sim.url}/v2/stocks/bars?symbols=AAPL&timeframe=1Min&colour=red`, {
      headers: { "APCA-API-KEY-ID": DEFAULT_SIM_KEY_ID, "APCA-API-SECRET-KEY": DEFAULT_SIM_SECRET },
    });
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({ code: 40010000, message: "unexpected parameter(s): colour" });
  });
});

describe("authentication", () => {
  it("answers a wrong secret with nginx's HTML 401", async () => {
    const api = sdkFor(sim, { secret: "wrong-secret" });
    const err = await api.stockBars(base).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(errors.AuthError);
    expect((err as errors.ApiError).status).toBe(401);
    expect((err as errors.ApiError).message).toContain("401 Authorization Required");
  });

  it("answers missing credentials with the same HTML page", async () => {
    const res = await fetch(`${sim.url}/v2/stocks/AAPL/bars?timeframe=1Min`);
    expect(res.status).toBe(401);
    expect(res.headers.get("content-type")).toBe("text/html");
    expect(await res.text()).toContain("<center><h1>401 Authorization Required</h1></center>\r\n");
  });
});

describe("rate limit", () => {
  it("refuses with 429 once the bucket is empty and recovers as it refills", async () => {
    // 5 requests per "minute", and a minute lasts 10 s: one token every 2 s.
    const limited = await startAlpacaSim({ rateLimitPerMin: 5, timeScale: 6, now: () => SIM_NOW });
    try {
      const api = sdkFor(limited);
      const remaining: number[] = [];
      let refused: unknown;
      // Drain: the sixth request finds the bucket empty (unless the machine is so slow a token refilled).
      while (refused === undefined && remaining.length < 10) {
        await api.stockBarsRaw(base).then(
          (res) => remaining.push(Number(res.raw.headers.get("X-RateLimit-Remaining"))),
          (e: unknown) => (refused = e),
        );
      }
      expect(remaining[0]).toBe(4);
      expect(remaining.at(-1)).toBe(0);
      expect(remaining.length).toBeGreaterThanOrEqual(5); // [4, 3, 2, 1, 0] on a machine that keeps up
      const err = refused as errors.ApiError;
      expect(err).toBeInstanceOf(errors.RateLimitError);
      expect(err.status).toBe(429);
      expect(err.message).toBe("too many requests.");
      expect(err.response.headers.get("Retry-After")).toBeNull();
      // The spec lists X-RateLimit-* on 429 (components.responses."429".headers): nothing left, and when that changes.
      expect(err.rateLimit).toMatchObject({ limit: 5, remaining: 0 });
      expect(err.rateLimit!.reset!.getTime()).toBeGreaterThan(Date.now() - 1000);
      expect(err.retryAfterMs).toBeGreaterThan(0);
      expect(err.retryAfterMs).toBeLessThanOrEqual(3_000); // one token every 2 s, reset in whole seconds
      await new Promise((r) => setTimeout(r, 2_100));
      await expect(api.stockBars(base)).resolves.toHaveProperty("bars.AAPL");
      expect(limited.stats().rateLimited).toBe(1);
    } finally {
      await limited.close();
    }
  });
});
