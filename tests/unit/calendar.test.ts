import { describe, expect, it } from "vitest";
import {
  holidaysOf,
  isHalfDay,
  isTradingDay,
  sessionAtOrAfter,
  sessionBounds,
  tradingSessions,
} from "../../scripts/lib/market-calendar/calendar.ts";
import { formatDay, nyMidnight, nyOffsetMinutes, parseDay } from "../../scripts/lib/market-calendar/civil-date.ts";

/** NYSE's published full-day closures. */
const NYSE_HOLIDAYS: Record<number, string[]> = {
  2015: ["01-01", "01-19", "02-16", "04-03", "05-25", "07-03", "09-07", "11-26", "12-25"],
  2016: ["01-01", "01-18", "02-15", "03-25", "05-30", "07-04", "09-05", "11-24", "12-26"],
  2017: ["01-02", "01-16", "02-20", "04-14", "05-29", "07-04", "09-04", "11-23", "12-25"],
  2018: ["01-01", "01-15", "02-19", "03-30", "05-28", "07-04", "09-03", "11-22", "12-05", "12-25"],
  2019: ["01-01", "01-21", "02-18", "04-19", "05-27", "07-04", "09-02", "11-28", "12-25"],
  2020: ["01-01", "01-20", "02-17", "04-10", "05-25", "07-03", "09-07", "11-26", "12-25"],
  2021: ["01-01", "01-18", "02-15", "04-02", "05-31", "07-05", "09-06", "11-25", "12-24"],
  2022: ["01-17", "02-21", "04-15", "05-30", "06-20", "07-04", "09-05", "11-24", "12-26"],
  2023: ["01-02", "01-16", "02-20", "04-07", "05-29", "06-19", "07-04", "09-04", "11-23", "12-25"],
  2024: ["01-01", "01-15", "02-19", "03-29", "05-27", "06-19", "07-04", "09-02", "11-28", "12-25"],
  2025: ["01-01", "01-09", "01-20", "02-17", "04-18", "05-26", "06-19", "07-04", "09-01", "11-27", "12-25"],
  2026: ["01-01", "01-19", "02-16", "04-03", "05-25", "06-19", "07-03", "09-07", "11-26", "12-25"],
  2027: ["01-01", "01-18", "02-15", "03-26", "05-31", "06-18", "07-05", "09-06", "11-25", "12-24"],
  2028: ["01-17", "02-21", "04-14", "05-29", "06-19", "07-04", "09-04", "11-23", "12-25"],
  2029: ["01-01", "01-15", "02-19", "03-30", "05-28", "06-19", "07-04", "09-03", "11-22", "12-25"],
  2030: ["01-01", "01-21", "02-18", "04-19", "05-27", "06-19", "07-04", "09-02", "11-28", "12-25"],
};

/** NYSE's 13:00 early closes. */
const NYSE_HALF_DAYS = [
  "2015-11-27", "2015-12-24", "2016-11-25", "2017-07-03", "2017-11-24", "2018-07-03", "2018-11-23",
  "2018-12-24", "2019-07-03", "2019-11-29", "2019-12-24", "2020-11-27", "2020-12-24", "2021-11-26",
  "2022-11-25", "2023-07-03", "2023-11-24", "2024-07-03", "2024-11-29", "2024-12-24", "2025-07-03",
  "2025-11-28", "2025-12-24", "2026-11-27", "2026-12-24",
];

describe("NYSE calendar", () => {
  it("knows every full-day holiday 2015–2030", () => {
    for (const [year, days] of Object.entries(NYSE_HOLIDAYS)) {
      const computed = [...holidaysOf(Number(year))].sort((a, b) => a - b).map(formatDay);
      expect(computed).toEqual(days.map((d) => `${year}-${d}`));
    }
  });

  it("knows the 13:00 early closes 2015–2026 and nothing else", () => {
    const found: string[] = [];
    for (const s of tradingSessions({ from: "2015-01-01", to: "2026-12-31" })) if (s.halfDay) found.push(s.day);
    expect(found).toEqual(NYSE_HALF_DAYS);
  });

  it("has 252 ± 1 sessions a year and none on weekends", () => {
    expect([...tradingSessions({ from: "2023-01-01", to: "2023-12-31" })]).toHaveLength(250);
    expect([...tradingSessions({ from: "2024-01-01", to: "2024-12-31" })]).toHaveLength(252);
    expect(isTradingDay("2024-03-09")).toBe(false); // Saturday
    expect(isTradingDay("2024-03-11")).toBe(true);
    expect(isTradingDay("2024-07-04")).toBe(false);
  });

  it("places sessions in UTC across a DST change (EST before, EDT after 2024-03-10)", () => {
    const before = sessionBounds("2024-03-08")!;
    expect(new Date(before.extendedOpen).toISOString()).toBe("2024-03-08T09:00:00.000Z");
    expect(new Date(before.regularOpen).toISOString()).toBe("2024-03-08T14:30:00.000Z");
    expect(new Date(before.extendedClose).toISOString()).toBe("2024-03-09T01:00:00.000Z");
    const after = sessionBounds("2024-03-11")!;
    expect(new Date(after.extendedOpen).toISOString()).toBe("2024-03-11T08:00:00.000Z");
    expect(new Date(after.regularClose).toISOString()).toBe("2024-03-11T20:00:00.000Z");
  });

  it("closes half days at 13:00 and their extended session at 17:00", () => {
    const s = sessionBounds("2024-11-29")!;
    expect(s.halfDay).toBe(true);
    expect(isHalfDay("2024-11-29")).toBe(true);
    expect(new Date(s.regularClose).toISOString()).toBe("2024-11-29T18:00:00.000Z");
    expect(new Date(s.extendedClose).toISOString()).toBe("2024-11-29T22:00:00.000Z");
  });

  it("finds the next session over a long weekend", () => {
    const friday = Date.parse("2024-03-29T12:00:00Z"); // Good Friday
    expect(sessionAtOrAfter(friday).day).toBe("2024-04-01");
    expect(sessionBounds("2024-03-29")).toBeNull();
  });

  it("matches the tz database's New York offset hour by hour 2015–2030", () => {
    const fmt = new Intl.DateTimeFormat("en-US", { timeZone: "America/New_York", timeZoneName: "shortOffset" });
    const intlOffset = (ms: number) => {
      const name = fmt.formatToParts(ms).find((p) => p.type === "timeZoneName")!.value; // "GMT-4"
      return Number(name.replace("GMT", "")) * 60;
    };
    let mismatches = 0;
    for (let ms = Date.parse("2015-01-01T00:30:00Z"); ms < Date.parse("2031-01-01T00:00:00Z"); ms += 3_600_000) {
      if (nyOffsetMinutes(ms) !== intlOffset(ms)) mismatches++;
    }
    expect(mismatches).toBe(0);
    expect(new Date(nyMidnight(parseDay("2024-01-02")!)).toISOString()).toBe("2024-01-02T05:00:00.000Z");
    expect(new Date(nyMidnight(parseDay("2024-07-02")!)).toISOString()).toBe("2024-07-02T04:00:00.000Z");
  });
});
