import { describe, expect, it } from "vitest";
import { numberArray, textArray } from "../../supabase/functions/_shared/db.ts";

describe("array literals for save_bars_page", () => {
  it("quotes every string, so a ticker spelled NULL stays a string, and escapes quotes and backslashes", () => {
    expect(textArray(["AAPL", "NULL", "BRK.B"])).toBe('{"AAPL","NULL","BRK.B"}');
    expect(textArray(['a"b', "c\\d", "x,y"])).toBe('{"a\\"b","c\\\\d","x,y"}');
    expect(textArray([])).toBe("{}");
  });

  it("writes numbers as Postgres reads them and refuses a non-finite one, naming where", () => {
    expect(numberArray([1, 100.25, 1e-7, 9_007_199_254_740_991])).toBe("{1,100.25,1e-7,9007199254740991}");
    expect(numberArray([])).toBe("{}");
    expect(() => numberArray([1, Number.NaN])).toThrow(/not a finite number at index 1: NaN/);
    expect(() => numberArray([Number.POSITIVE_INFINITY])).toThrow(/index 0: Infinity/);
  });
});
