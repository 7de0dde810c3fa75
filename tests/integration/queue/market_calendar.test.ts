/**
 * The calendar cache on a real Postgres: refresh_market_calendar() replaces a
 * range whole (sessions, half days, the range recorded as covered), refuses
 * rows outside the range and writes nothing then, serializes concurrent
 * refreshes; cached_session_end() answers from the cache only where it
 * covers the days, across a weekend, a holiday and a half day.
 */
import { describe, expect, it } from "vitest";
import { alpacaCalendarDays, parseDay } from "../../../scripts/lib/market-calendar/index.ts";
import { useTestDb } from "../../helpers/db.ts";

const db = useTestDb({ truncateBeforeEach: ["public.market_calendar", "public.market_calendar_ranges"] });

/** The rule calendar's rows of an inclusive day range, tagged with a source. */
function rows(first: string, last: string, source = "alpaca") {
  return alpacaCalendarDays(parseDay(first)!, parseDay(last)!).map((r) => ({ ...r, source }));
}

async function refresh(first: string, last: string, sessions: unknown[]) {
  const [{ n }] = await db.sql`select public.refresh_market_calendar(${first}, ${last}, ${db.sql.json(sessions as never)}) as n`;
  return n as number;
}

async function lastEnd(until: string, delay = "0") {
  const [{ t }] = await db.sql`select public.cached_session_end(${until}::timestamptz, ${delay}::interval) as t`;
  return t === null ? null : (t as Date).toISOString();
}

async function covers(first: string, last: string) {
  const [{ c }] = await db.sql`select public.market_calendar_covers(${first}, ${last}) as c`;
  return c as boolean;
}

describe("refresh_market_calendar", () => {
  it("stores sessions with New York hours, half days and the covered range", async () => {
    // Thanksgiving week 2024: Thursday closed, Friday a half day.
    expect(await refresh("2024-11-25", "2024-12-01", rows("2024-11-25", "2024-11-29"))).toBe(4);
    const stored = await db.sql<{ day: string; regular_open: Date; regular_close: Date; session_close: Date; half_day: boolean }[]>`
      select day::text, regular_open, regular_close, session_close, half_day from public.market_calendar order by day`;
    expect(stored.map((r) => r.day)).toEqual(["2024-11-25", "2024-11-26", "2024-11-27", "2024-11-29"]);
    expect(stored[0]).toMatchObject({ half_day: false });
    expect(stored[0]!.regular_open.toISOString()).toBe("2024-11-25T14:30:00.000Z");
    expect(stored[3]).toMatchObject({ half_day: true });
    expect(stored[3]!.regular_close.toISOString()).toBe("2024-11-29T18:00:00.000Z");
    expect(stored[3]!.session_close.toISOString()).toBe("2024-11-29T22:00:00.000Z");
    expect(await covers("2024-11-25", "2024-12-01")).toBe(true);
    expect(await covers("2024-11-25", "2024-12-02")).toBe(false);
  });

  it("replaces a range whole: a session missing from the new answer is gone", async () => {
    await refresh("2024-03-04", "2024-03-08", rows("2024-03-04", "2024-03-08"));
    await refresh("2024-03-04", "2024-03-08", rows("2024-03-04", "2024-03-08").filter((r) => r.date !== "2024-03-06"));
    const [{ n }] = await db.sql`select count(*)::int as n from public.market_calendar`;
    expect(n).toBe(4);
  });

  it("refuses rows outside the range, an inverted range or a bad source, and writes nothing", async () => {
    await expect(refresh("2024-03-04", "2024-03-05", rows("2024-03-04", "2024-03-06")))
      .rejects.toThrow(/calendar rows outside 2024-03-04 \.\. 2024-03-05: 2024-03-06/);
    await expect(refresh("2024-03-08", "2024-03-04", [])).rejects.toThrow(/empty or inverted/);
    await expect(refresh("2024-03-04", "2024-03-05", rows("2024-03-04", "2024-03-05", "guess")))
      .rejects.toThrow(/calendar_source_is_known/);
    const [{ s, r }] = await db.sql`
      select (select count(*)::int from public.market_calendar) as s, (select count(*)::int from public.market_calendar_ranges) as r`;
    expect({ s, r }).toEqual({ s: 0, r: 0 });
  });

  it("serializes concurrent refreshes of overlapping ranges: the result is one of them, whole", async () => {
    const a = db.connect(1);
    const b = db.connect(1);
    const week = rows("2024-03-04", "2024-03-08");
    await Promise.all([
      a`select public.refresh_market_calendar('2024-03-04', '2024-03-08', ${a.json(week as never)})`,
      b`select public.refresh_market_calendar('2024-03-06', '2024-03-08', ${b.json(week.slice(2) as never)})`,
    ]);
    const days = await db.sql<{ day: string }[]>`select day::text from public.market_calendar order by day`;
    expect(days.map((d) => d.day)).toEqual(["2024-03-04", "2024-03-05", "2024-03-06", "2024-03-07", "2024-03-08"]);
    await Promise.all([a.end(), b.end()]);
  });
});

describe("cached_session_end", () => {
  it("is the extended close of the last session completed, plus the delay, at or before the instant", async () => {
    // 2024-06-28 Fri; 2024-07-03 Wed half day; 2024-07-04 Thu holiday; 2024-07-05 Fri.
    await refresh("2024-06-27", "2024-07-08", rows("2024-06-27", "2024-07-08"));
    // During Friday's session: Thursday's session is the last completed one (20:00 EDT = 00:00Z).
    expect(await lastEnd("2024-06-28T15:00:00Z")).toBe("2024-06-28T00:00:00.000Z");
    // Over the weekend: Friday's.
    expect(await lastEnd("2024-06-30T12:00:00Z")).toBe("2024-06-29T00:00:00.000Z");
    // The delay: 10 minutes after Friday's close, a 15-minute delay still points at Thursday.
    expect(await lastEnd("2024-06-29T00:10:00Z", "15 minutes")).toBe("2024-06-28T00:00:00.000Z");
    expect(await lastEnd("2024-06-29T00:15:00Z", "15 minutes")).toBe("2024-06-29T00:00:00.000Z");
    // The half day ends at 17:00 EDT; the holiday after it adds nothing.
    expect(await lastEnd("2024-07-04T23:00:00Z")).toBe("2024-07-03T21:00:00.000Z");
    expect(await lastEnd("2024-07-05T12:00:00Z")).toBe("2024-07-03T21:00:00.000Z");
  });

  it("is null where the cache does not cover the days up to the instant", async () => {
    await refresh("2024-03-04", "2024-03-08", rows("2024-03-04", "2024-03-08"));
    // Thursday's close, 20:00 EST.
    expect(await lastEnd("2024-03-08T12:00:00Z")).toBe("2024-03-08T01:00:00.000Z");
    // 2024-03-09 is not covered: a session there would be unknown.
    expect(await lastEnd("2024-03-09T12:00:00Z")).toBeNull();
    // Before anything cached.
    expect(await lastEnd("2024-03-04T12:00:00Z")).toBeNull();
    await refresh("2024-03-09", "2024-03-10", []);
    expect(await lastEnd("2024-03-10T23:00:00Z")).toBe("2024-03-09T01:00:00.000Z");
    await expect(lastEnd("2024-03-10T23:00:00Z", "-1 minute")).rejects.toThrow(/must not be negative/);
  });
});
