/** The orchestrator's in-flight cap: the Alpaca budget, one isolate's pages, and the database connection budget. */
import { describe, expect, it } from "vitest";
import { connectionsForRuns, DEFAULT_DB_CONNECTION_BUDGET, inFlightTarget } from "../../supabase/functions/_shared/config.ts";
import { RateLimitedError, RetryableError, toJobError } from "../../supabase/functions/_shared/errors.ts";

describe("inFlightTarget", () => {
  it("free plan: a minute of the Alpaca budget or one isolate's pages, whichever is lower", () => {
    expect(inFlightTarget({ alpacaRequestsPerMinute: 200, maxInFlight: undefined })).toBe(12);
    expect(inFlightTarget({ alpacaRequestsPerMinute: 30, maxInFlight: undefined })).toBe(3);
  });

  it("never more runs than the connection budget leaves after the orchestrator's pool, even when configured higher", () => {
    expect(DEFAULT_DB_CONNECTION_BUDGET).toBe(20);
    expect(connectionsForRuns({})).toBe(17);
    expect(inFlightTarget({ alpacaRequestsPerMinute: 10_000, maxInFlight: 30 })).toBe(17);
    expect(inFlightTarget({ alpacaRequestsPerMinute: 10_000, maxInFlight: 30, dbConnectionBudget: 60, dbPoolMax: 3 })).toBe(30);
    expect(inFlightTarget({ alpacaRequestsPerMinute: 200, maxInFlight: undefined, dbConnectionBudget: 8, dbPoolMax: 3 })).toBe(5);
    // A budget below the orchestrator's own pool still lets one run through.
    expect(inFlightTarget({ alpacaRequestsPerMinute: 200, maxInFlight: undefined, dbConnectionBudget: 2, dbPoolMax: 3 })).toBe(1);
  });
});

describe("a refused database connection slows the run down instead of using an attempt", () => {
  it.each([
    [{ code: "53300", message: "sorry, too many clients already" }],
    [{ code: "08P01", message: "no more connections allowed (max_client_conn)" }],
    [{ code: "XX000", message: "Max client connections reached" }],
    [{ code: "53300", message: "remaining connection slots are reserved for roles with the SUPERUSER attribute" }],
  ])("%o is rate limited, waited out in place", (raw) => {
    const err = toJobError(Object.assign(new Error(raw.message), { code: raw.code }));
    expect(err).toBeInstanceOf(RateLimitedError);
    expect(err.message).toMatch(/^database connection limit reached: /);
    expect((err as RateLimitedError).retryAfterMs).toBe(2_000);
  });

  it("other database errors stay retryable", () => {
    expect(toJobError(Object.assign(new Error("connection terminated"), { code: "57P01" }))).toBeInstanceOf(RetryableError);
  });
});
