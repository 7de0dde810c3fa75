import { describe, expect, it } from "vitest";
import { useTestDb } from "../../helpers/db.ts";

const db = useTestDb();

interface Def {
  kind?: string;
  symbol?: string;
  symbols_array?: unknown;
  timeframe?: string;
  feed?: string;
  adjustment?: string;
  range_start?: string;
  range_end?: string;
}

async function insert(def: Def) {
  const d = {
    kind: "single", symbol: "AAPL", symbols_array: null, timeframe: "1Min", feed: "sip", adjustment: "raw",
    range_start: "2024-01-01Z", range_end: "2024-02-01Z", ...def,
  };
  // postgres.js serialises a value bound to a jsonb parameter with JSON.stringify.
  const json = d.symbols_array as never;
  await db.sql`
    insert into public.job_definitions (kind, symbol, symbols_array, timeframe, feed, adjustment, range_start, range_end)
    values (${d.kind}, ${d.symbol}, ${json}::jsonb, ${d.timeframe}, ${d.feed}, ${d.adjustment}, ${d.range_start}, ${d.range_end})`;
}

const batch = (symbols_array: unknown): Def => ({ kind: "batch", symbol: "US_BATCH_1", symbols_array });

const refused: Array<[string, Def, string]> = [
  ["a single whose symbol is a basket name", { symbol: "US_BATCH_1" }, "single_symbol_is_a_ticker"],
  ["a lower-case single", { symbol: "aapl" }, "single_symbol_is_a_ticker"],
  ["an empty single symbol", { symbol: "" }, "single_symbol_is_a_ticker"],
  ["an injection attempt", { symbol: "AAPL;DROP" }, "single_symbol_is_a_ticker"],
  ["a single with a symbols_array", { symbols_array: ["AAPL"] }, "single_has_no_symbols_array"],
  ["a batch without symbols_array", batch(null), "batch_has_symbols_array"],
  ["a batch with an empty array", batch([]), "batch_symbols_array_is_not_empty"],
  ["a batch whose symbols_array is an object", batch({ AAPL: true }), "batch_symbols_array_is_an_array"],
  ["a batch whose symbols_array is a string", batch("AAPL,MSFT"), "batch_symbols_array_is_an_array"],
  ["a batch holding a non-ticker", batch(["AAPL", "US_BATCH_2"]), "batch_symbols_are_tickers"],
  ["a batch holding a number", batch(["AAPL", 42]), "batch_symbols_are_tickers"],
  ["a batch holding a duplicate", batch(["AAPL", "MSFT", "AAPL"]), "batch_symbols_are_unique"],
  ["a batch too large for one request line", batch(Array.from({ length: 501 }, (_, i) => `S${String.fromCharCode(65 + (i % 26))}${String.fromCharCode(65 + Math.floor(i / 26) % 26)}`)), "batch_fits_one_request"],
  ["a batch named with SQL", { ...batch(["AAPL"]), symbol: "x'; drop table bars;--" }, "batch_name_is_a_name"],
  ["an unknown kind", { kind: "multi" }, "kind_is_single_or_batch"],
  ["timeframe 60Min", { timeframe: "60Min" }, "timeframe_is_alpaca_timeframe"],
  ["timeframe 0Min", { timeframe: "0Min" }, "timeframe_is_alpaca_timeframe"],
  ["timeframe 24Hour", { timeframe: "24Hour" }, "timeframe_is_alpaca_timeframe"],
  ["timeframe 2Day", { timeframe: "2Day" }, "timeframe_is_alpaca_timeframe"],
  ["timeframe 5Month", { timeframe: "5Month" }, "timeframe_is_alpaca_timeframe"],
  ["timeframe 3Fortnight", { timeframe: "3Fortnight" }, "timeframe_is_alpaca_timeframe"],
  ["feed delayed_sip", { feed: "delayed_sip" }, "feed_is_known"],
  ["adjustment bogus", { adjustment: "bogus" }, "adjustment_is_known"],
  ["an empty range", { range_end: "2024-01-01Z" }, "range_is_not_empty"],
  ["an inverted range", { range_start: "2024-03-01Z" }, "range_is_not_empty"],
];

describe("job_definitions rules", () => {
  it.each(refused)("refuses %s, naming rule %s", async (_what, def, rule) => {
    const err = await insert(def).then(() => null, (e: Error) => e);
    expect(err, "insert should have been refused").not.toBeNull();
    expect(err!.message).toContain(rule);
    const [{ n }] = await db.sql`select count(*)::int as n from public.job_definitions`;
    expect(n).toBe(0);
  });

  it.each([
    ["a plain single", {}],
    ["a class-suffix ticker", { symbol: "BRK.B" }],
    ["a batch of one symbol", batch(["AAPL"])],
    ["a 50-symbol batch", batch(Array.from({ length: 50 }, (_, i) => "S" + String.fromCharCode(65 + (i % 26)) + String.fromCharCode(65 + Math.floor(i / 26))))],
    ...["1Min", "59Min", "1Hour", "23Hour", "1Day", "1Week", "1Month", "12Month"].map((tf) => [`timeframe ${tf}`, { timeframe: tf }]),
    ["feed iex with combined adjustment", { feed: "iex", adjustment: "split,spin-off" }],
  ] as Array<[string, Def]>)("accepts %s", async (_what, def) => {
    await db.sql`truncate public.job_definitions cascade`;
    await insert(def);
  });
});
