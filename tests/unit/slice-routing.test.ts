import { describe, expect, it } from "vitest";
import { routeFor } from "../../supabase/functions/_shared/kinds.ts";
import { parseClaimedRun } from "../../supabase/functions/_shared/claimed-run.ts";
import type { ClaimedRunRow } from "../../supabase/functions/_shared/slice.ts";

const row = (over: Partial<ClaimedRunRow>): ClaimedRunRow => ({
  run_id: "7", job_def_id: "3", kind: "batch", name: "US_BATCH_1", symbols: ["AAPL", "MSFT"], timeframe: "1Min",
  feed: "sip", adjustment: "raw", slice_start: new Date("2024-01-02Z"), slice_end: new Date("2024-01-04Z"),
  attempt: 1, page_token: null, locked_by: "orchestrator:abc", ...over,
});

function parse(over: Partial<ClaimedRunRow>) {
  const r = parseClaimedRun(row(over));
  if (!r.ok) throw new Error(r.error);
  return r.slice;
}

describe("slice parsing and routing", () => {
  it("routes a batch to fetch-bars-batch with its symbols, never its name as a symbol", () => {
    const slice = parse({});
    expect(slice).toMatchObject({ kind: "batch", name: "US_BATCH_1", symbols: ["AAPL", "MSFT"] });
    expect(routeFor(slice)).toBe("fetch-bars-batch");
  });

  it("a batch of one symbol is still a batch", () => {
    const slice = parse({ symbols: ["AAPL"] });
    expect(routeFor(slice)).toBe("fetch-bars-batch");
  });

  it("a single goes to fetch-bars", () => {
    const slice = parse({ kind: "single", name: "BRK.B", symbols: ["BRK.B"] });
    expect(slice).toMatchObject({ kind: "single", symbol: "BRK.B" });
    expect(routeFor(slice)).toBe("fetch-bars");
  });

  it.each([
    ["a single named like a basket", { kind: "single", name: "US_BATCH_1" }, /symbol: must be a ticker/],
    ["an unknown kind", { kind: "multi" }, /kind/],
    ["a batch whose symbols are not an array", { symbols: "AAPL,MSFT" }, /symbols/],
    ["a batch holding a basket name", { symbols: ["AAPL", "US_BATCH_2"] }, /symbols\.1: must be a ticker/],
    ["an empty batch", { symbols: [] }, /symbols/],
    ["a duplicate symbol", { symbols: ["AAPL", "AAPL"] }, /must not repeat/],
    ["a bad timeframe", { timeframe: "3Fortnight" }, /timeframe/],
  ] as Array<[string, Partial<ClaimedRunRow>, RegExp]>)("refuses %s with an error naming the field", (_what, over, message) => {
    const r = parseClaimedRun(row(over));
    expect(r.ok).toBe(false);
    expect(!r.ok && r.error).toMatch(message);
  });
});
