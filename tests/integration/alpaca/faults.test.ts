/** Every failure the simulator can produce reaches the client as the right outcome class. */
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { countBars } from "../../../scripts/alpaca-sim/ground-truth.ts";
import { type AlpacaSim, DEFAULT_SIM_KEY_ID, DEFAULT_SIM_SECRET, type FaultSpec, parseFaultSpec, startAlpacaSim } from "../../../scripts/alpaca-sim/index.ts";
import { type BarsQuery, createAlpacaBarsClient, iterateBarPages } from "../../../supabase/functions/_shared/alpaca/index.ts";
import { type JobError, PermanentError, RateLimitedError, RetryableError } from "../../../supabase/functions/_shared/errors.ts";
import { SIM_NOW, startTestSim } from "./sim-helpers.ts";

let sim: AlpacaSim;
beforeAll(async () => {
  // Exact pages, so a fault's effect on the page count is the fault's alone.
  sim = await startTestSim({ pageVariation: false });
});
afterAll(() => sim.close());

const QUERY: BarsQuery = {
  endpoint: "multi", symbols: ["AAPL", "MSFT"], timeframe: "1Min",
  start: "2024-03-05T14:30:00Z", end: "2024-03-05T20:59:00Z", limit: 300,
};

const client = (overrides: { secretKey?: string; timeoutMs?: number } = {}) =>
  createAlpacaBarsClient({ baseUrl: sim.url, keyId: DEFAULT_SIM_KEY_ID, secretKey: DEFAULT_SIM_SECRET, ...overrides });

/** Pages the query; returns the number of pages yielded and the error, if any. */
async function run(q: BarsQuery = QUERY, c = client()): Promise<{ pages: number; bars: number; error?: JobError }> {
  let pages = 0;
  let bars = 0;
  try {
    for await (const page of iterateBarPages(c, q)) {
      pages++;
      bars += page.bars.length;
    }
    return { pages, bars };
  } catch (e) {
    return { pages, bars, error: e as JobError };
  }
}

function expectClean(error: JobError | undefined) {
  expect(error?.message).not.toContain(DEFAULT_SIM_SECRET);
  expect(error?.message).not.toContain(DEFAULT_SIM_KEY_ID);
  expect(error?.message).not.toMatch(/<html|<center/i);
}

describe("injected faults", () => {
  const cases: Array<[keyof FaultSpec, typeof RetryableError | typeof RateLimitedError, number | undefined, RegExp]> = [
    ["rate429", RateLimitedError, 429, /rate limit exceeded \(429\): too many requests\./],
    ["error500", RetryableError, 500, /server error \(500\)/],
    ["slow", RetryableError, undefined, /timed out after 400 ms/],
    ["truncatedJson", RetryableError, undefined, /invalid JSON/],
    ["invalidJson", RetryableError, undefined, /invalid JSON/],
    ["reset", RetryableError, undefined, /connection failed|request failed/],
  ];

  it.each(cases)("%s -> %o", async (mode, errorClass, status, message) => {
    sim.setFaults({ [mode]: 1, slowMs: 1_500, seed: 3 });
    sim.resetStats();
    try {
      const { pages, error } = await run(QUERY, client({ timeoutMs: mode === "slow" ? 400 : 10_000 }));
      expect(pages).toBe(0);
      expect(error).toBeInstanceOf(errorClass);
      expect(error!.status).toBe(status);
      expect(error!.message).toMatch(message);
      expectClean(error);
      // No hidden SDK retry: one failed page, one request (a slow one is logged when it finally answers).
      await vi.waitFor(() => expect(sim.stats().requests).toBe(1), { timeout: 5_000 });
      expect(sim.stats().faults[mode as "rate429"]).toBe(1);
    } finally {
      sim.setFaults(undefined);
    }
  });

  it("repeatToken: a page that hands back its own token is not yielded and fails retryably", async () => {
    sim.setFaults({ repeatToken: 1 });
    try {
      const { pages, error } = await run();
      expect(pages).toBe(1); // the first page had no token to repeat
      expect(error).toBeInstanceOf(RetryableError);
      expect(error!.message).toMatch(/repeated page token/);
    } finally {
      sim.setFaults(undefined);
    }
  });

  it("emptyLastPage: a token leading to an empty last page ends the walk cleanly", async () => {
    sim.setFaults({ emptyLastPage: 1 });
    try {
      const { pages, bars, error } = await run();
      expect(error).toBeUndefined();
      expect(bars).toBe(countBars({ ...QUERY, now: SIM_NOW }));
      expect(pages).toBe(Math.ceil(bars / 300) + 1);
    } finally {
      sim.setFaults(undefined);
    }
  });

  it("draws the same faults for the same seed", async () => {
    const draw = async () => {
      const s = await startTestSim({ faults: parseFaultSpec("500:0.3,429:0.2,seed:42") });
      const c = createAlpacaBarsClient({ baseUrl: s.url, keyId: DEFAULT_SIM_KEY_ID, secretKey: DEFAULT_SIM_SECRET });
      for (let i = 0; i < 20; i++) await c.fetchPage(QUERY, null).catch(() => undefined);
      const faults = s.stats().log.map((r) => r.fault ?? "-");
      await s.close();
      return faults;
    };
    const first = await draw();
    expect(first).toEqual(await draw());
    expect(first.filter((f) => f !== "-").length).toBeGreaterThan(3);
  });
});

describe("fault spec grammar", () => {
  it("parses name:value pairs", () => {
    expect(parseFaultSpec("429:0.05,500:0.05,slow:0.02,truncated:0.03,invalid:0.01,reset:0.03,repeat:0.01,emptylast:0.1,seed:7,slowms:500"))
      .toEqual({
        rate429: 0.05, error500: 0.05, slow: 0.02, truncatedJson: 0.03, invalidJson: 0.01, reset: 0.03,
        repeatToken: 0.01, emptyLastPage: 0.1, seed: 7, slowMs: 500,
      });
  });
  it.each(["429", "boom:0.1", "500:2", "slow:x", "429:0.1:3"])("rejects %j", (spec) => {
    expect(() => parseFaultSpec(spec)).toThrow();
  });
});

describe("real upstream errors", () => {
  it("401 -> PermanentError with a clean message", async () => {
    const { error } = await run(QUERY, client({ secretKey: "definitely-wrong-secret" }));
    expect(error).toBeInstanceOf(PermanentError);
    expect(error!.message).toBe("Alpaca rejected the API key (401)");
    expect(error!.status).toBe(401);
    expect(error!.message).not.toContain("definitely-wrong-secret");
  });

  it.each([
    [{ timeframe: "3Fortnight" }, 400, "Alpaca rejected the request (400): invalid timeframe: 3Fortnight"],
    [{ symbols: ["AAPL", "US_BATCH_1"] }, 400, "Alpaca rejected the request (400): invalid symbol: US_BATCH_1"],
    [{ feed: "sip", end: new Date(SIM_NOW.getTime() - 60_000).toISOString(), start: "2025-06-30T20:00:00Z" }, 403,
      /^Alpaca refused the request \(403\): subscription does not permit querying recent SIP data/],
  ])("%o -> PermanentError %i with Alpaca's message", async (change, status, message) => {
    const { error } = await run({ ...QUERY, ...change });
    expect(error).toBeInstanceOf(PermanentError);
    expect(error!.status).toBe(status);
    expect(error!.message).toMatch(message);
  });

  it("an exhausted bucket -> RateLimitedError", async () => {
    const limited = await startAlpacaSim({ rateLimitPerMin: 2, now: () => SIM_NOW });
    try {
      const c = createAlpacaBarsClient({ baseUrl: limited.url, keyId: DEFAULT_SIM_KEY_ID, secretKey: DEFAULT_SIM_SECRET });
      const { pages, error } = await run({ ...QUERY, limit: 100 }, c);
      expect(pages).toBe(2);
      expect(error).toBeInstanceOf(RateLimitedError);
      expect(error!.status).toBe(429);
    } finally {
      await limited.close();
    }
  });

  it("a closed port -> RetryableError", async () => {
    const closed = await startTestSim();
    const url = closed.url;
    await closed.close();
    const c = createAlpacaBarsClient({ baseUrl: url, keyId: DEFAULT_SIM_KEY_ID, secretKey: DEFAULT_SIM_SECRET });
    const { error } = await run(QUERY, c);
    expect(error).toBeInstanceOf(RetryableError);
    expect(error!.message).toMatch(/connection failed/);
  });
});
