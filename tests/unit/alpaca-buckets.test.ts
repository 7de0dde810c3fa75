/**
 * Alpaca's bucket alignment (the market calendar library, served by the simulator): minute and
 * hour buckets are consecutive N-unit steps on the UTC line from the Unix
 * epoch, never restarting at an hour or a day; calendar units are unchanged.
 */
import { describe, expect, it } from "vitest";
import { bucketCeil, bucketFloor, bucketNext, bucketPrev } from "../../scripts/lib/market-calendar/index.ts";
import { parseTimeframe } from "../../scripts/lib/market-calendar/timeframe.ts";

const tf = (s: string) => parseTimeframe(s)!;
const iso = (ms: number) => new Date(ms).toISOString().replace(".000Z", "Z");
const at = (s: string) => Date.parse(s);

/** Bucket starts from the one containing `from`, `n` of them. */
function starts(timeframe: string, from: string, n: number): string[] {
  const out: string[] = [];
  for (let b = bucketFloor(tf(timeframe), at(from)); out.length < n; b = bucketNext(tf(timeframe), b)) out.push(iso(b));
  return out;
}

describe("Alpaca bucket alignment in the simulator", () => {
  it("45Min: the alpaca-trade-api-python README sample, 07:30Z, 08:15Z, 09:00Z (across hour boundaries)", () => {
    expect(starts("45Min", "2021-06-08T07:30:00Z", 4)).toEqual(
      ["2021-06-08T07:30:00Z", "2021-06-08T08:15:00Z", "2021-06-08T09:00:00Z", "2021-06-08T09:45:00Z"],
    );
  });

  it("7Min: 7-minute steps from the epoch, not restarted at each hour (no 4-minute bucket at :56)", () => {
    const [first, second] = starts("7Min", "2024-03-05T14:56:00Z", 2);
    expect(at(second!) - at(first!)).toBe(7 * 60_000);
    expect(at(first!) % (7 * 60_000)).toBe(0);
    expect(starts("7Min", "2024-03-05T14:56:00Z", 2)).toEqual(["2024-03-05T14:52:00Z", "2024-03-05T14:59:00Z"]);
  });

  it("5Hour: 5-hour steps across midnight (2024-03-04 has 06Z, 11Z, 16Z, 21Z, then 02Z the next day)", () => {
    expect(starts("5Hour", "2024-03-04T06:00:00Z", 5)).toEqual(
      ["2024-03-04T06:00:00Z", "2024-03-04T11:00:00Z", "2024-03-04T16:00:00Z", "2024-03-04T21:00:00Z", "2024-03-05T02:00:00Z"],
    );
  });

  it("divisors of the hour and the day keep their familiar grid (15Min at :00/:15/:30/:45, 4Hour at 00, 04, 08 … UTC)", () => {
    expect(iso(bucketFloor(tf("15Min"), at("2024-03-05T14:44:59Z")))).toBe("2024-03-05T14:30:00Z");
    expect(iso(bucketCeil(tf("15Min"), at("2024-03-05T14:30:01Z")))).toBe("2024-03-05T14:45:00Z");
    expect(iso(bucketFloor(tf("4Hour"), at("2024-03-05T10:59:00Z")))).toBe("2024-03-05T08:00:00Z");
    expect(iso(bucketPrev(tf("4Hour"), at("2024-03-05T00:00:00Z")))).toBe("2024-03-04T20:00:00Z");
  });

  it("day, week and month buckets stay at New York midnight", () => {
    expect(iso(bucketFloor(tf("1Day"), at("2024-01-03T03:00:00Z")))).toBe("2024-01-02T05:00:00Z");
    expect(iso(bucketFloor(tf("1Week"), at("2024-03-14T15:00:00Z")))).toBe("2024-03-11T04:00:00Z");
    expect(iso(bucketNext(tf("3Month"), at("2024-10-01T04:00:00Z")))).toBe("2025-01-01T05:00:00Z");
  });
});
