import { describe, expect, it } from "vitest";
import { bucketCeil, bucketFloor, bucketNext, parseTimeframe } from "../../scripts/lib/market-calendar/timeframe.ts";
import { decodePageToken, encodePageToken } from "../../scripts/alpaca-sim/tokens.ts";

const iso = (ms: number) => new Date(ms).toISOString();
const at = (s: string) => Date.parse(s);

describe("timeframe grammar", () => {
  it.each(["1Min", "59Min", "5T", "1Hour", "23H", "1Day", "1D", "1Week", "1W", "1Month", "12M", "4Month", "6M"])(
    "accepts %s",
    (tf) => expect(parseTimeframe(tf)).toBeDefined(),
  );
  it.each(["0Min", "60Min", "24Hour", "2Day", "2Week", "5Month", "1Sec", "banana", "3Fortnight", "1min", " 1Min", ""])(
    "rejects %j",
    (tf) => expect(parseTimeframe(tf)).toBeUndefined(),
  );
});

describe("buckets", () => {
  it("aligns N-Min buckets to steps of N minutes from the epoch, across hour boundaries, as Alpaca does", () => {
    const tf = parseTimeframe("15Min")!;
    expect(iso(bucketFloor(tf, at("2024-03-05T14:44:59Z")))).toBe("2024-03-05T14:30:00.000Z");
    expect(iso(bucketCeil(tf, at("2024-03-05T14:30:01Z")))).toBe("2024-03-05T14:45:00.000Z");
    const seven = parseTimeframe("7Min")!;
    expect(iso(bucketNext(seven, at("2024-03-05T14:56:00Z")))).toBe("2024-03-05T15:03:00.000Z");
    expect(iso(bucketFloor(seven, at("2024-03-05T15:01:00Z")))).toBe("2024-03-05T14:59:00.000Z");
  });

  it("aligns N-Hour buckets to multiples of N past UTC midnight", () => {
    const tf = parseTimeframe("4Hour")!;
    expect(iso(bucketFloor(tf, at("2024-03-05T10:59:00Z")))).toBe("2024-03-05T08:00:00.000Z");
    expect(iso(bucketNext(tf, at("2024-03-05T20:00:00Z")))).toBe("2024-03-06T00:00:00.000Z");
  });

  it("stamps day, week and month buckets at New York midnight", () => {
    const day = parseTimeframe("1Day")!;
    expect(iso(bucketFloor(day, at("2024-01-03T03:00:00Z")))).toBe("2024-01-02T05:00:00.000Z"); // EST
    expect(iso(bucketFloor(day, at("2024-07-03T03:00:00Z")))).toBe("2024-07-02T04:00:00.000Z"); // EDT
    expect(iso(bucketNext(day, at("2024-03-09T05:00:00Z")))).toBe("2024-03-10T05:00:00.000Z"); // DST day is 23 h
    expect(iso(bucketNext(day, at("2024-03-10T05:00:00Z")))).toBe("2024-03-11T04:00:00.000Z");
    const week = parseTimeframe("1Week")!;
    expect(iso(bucketFloor(week, at("2024-03-14T15:00:00Z")))).toBe("2024-03-11T04:00:00.000Z"); // Monday
    const quarter = parseTimeframe("3Month")!;
    expect(iso(bucketFloor(quarter, at("2024-05-20T15:00:00Z")))).toBe("2024-04-01T04:00:00.000Z");
    expect(iso(bucketNext(quarter, at("2024-10-01T04:00:00Z")))).toBe("2025-01-01T05:00:00.000Z");
  });
});

describe("page tokens", () => {
  it("encode SYMBOL|letter|unix-ns in base64 and decode back", () => {
    const token = encodePageToken("NVDA", "M", 1785769800000);
    expect(atob(token)).toBe("NVDA|M|1785769800000000000");
    expect(token).toBe("TlZEQXxNfDE3ODU3Njk4MDAwMDAwMDAwMDA="); // the token recorded from Alpaca
    expect(decodePageToken(token)).toEqual({ symbol: "NVDA", letter: "M", t: 1785769800000 });
    expect(decodePageToken("not base64!")).toBeUndefined();
    expect(decodePageToken(btoa("NVDA|M|2024-01-01"))).toBeUndefined();
  });
});
