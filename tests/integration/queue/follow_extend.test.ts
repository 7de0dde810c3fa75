/**
 * Followed and extended definitions at the SQL level: the catch-up appends the
 * completed sessions and nothing twice, concurrent catch-ups serialize, slices
 * of every definition partition its range (a query over job_runs), and every
 * refusal writes nothing.
 */
import type { Sql } from "postgres";
import { describe, expect, it } from "vitest";
import { alpacaCalendarDays, parseDay } from "../../../scripts/lib/market-calendar/index.ts";
import { useTestDb } from "../../helpers/db.ts";
import { tableCounts } from "../../helpers/run-cli.ts";
import { exactCoverage, sliceCoverage } from "../../helpers/slice-coverage.ts";

const db = useTestDb({ truncateBeforeEach: ["public.job_definitions", "public.market_calendar", "public.market_calendar_ranges"] });

/** A New York wall-clock time in late 2024 (EST, UTC-5). */
const ny = (local: string) => `${local}-05:00`;

async function follow(sql: Sql, until: string, opts: { name?: string; from?: string; feed?: string } = {}): Promise<number> {
  const [{ id }] = await sql<{ id: string }[]>`
    select public.plan_followed_backfill('batch', ${opts.name ?? "LIVE"}, '["AAPL","MSFT"]'::jsonb, '1Min',
             ${opts.from ?? ny("2024-11-25T00:00:00")}, ${opts.feed ?? "sip"}, p_until => ${until}) as id`;
  return Number(id);
}

async function catchUp(sql: Sql, until: string) {
  return await sql<{ job_def_id: string; covered_from: Date; covered_to: Date; slices_added: number; note: string | null }[]>`
    select * from public.catch_up_followed_definitions(${until})`;
}

async function rangeOf(sql: Sql, id: number): Promise<{ start: string; end: string; runs: number }> {
  const [r] = await sql<{ start: Date; end: Date; runs: number }[]>`
    select range_start as start, range_end as end, (select count(*)::int from public.job_runs where job_def_id = ${id}) as runs
      from public.job_definitions where id = ${id}`;
  return { start: r!.start.toISOString(), end: r!.end.toISOString(), runs: r!.runs };
}

/** Everything a refusal must leave as it was. */
async function snapshot(sql: Sql) {
  const defs = await sql`select id, range_start, range_end, follow, caught_up_at, caught_up_until from public.job_definitions order by id`;
  const runs = await sql`select id, job_def_id, slice_start, slice_end from public.job_runs order by id`;
  return { counts: await tableCounts(sql), defs: [...defs], runs: [...runs] };
}

describe("last_completed_session_end", () => {
  it("ends at New York midnight after the last day whose 20:00 close plus the feed's delay has passed, in EST and EDT", async () => {
    const cases: [feed: string, until: string, end: string][] = [
      ["sip", "2024-11-27T20:14:59-05:00", "2024-11-27T05:00:00.000Z"], // SIP: 15 minutes after the close is not yet
      ["sip", "2024-11-27T20:15:00-05:00", "2024-11-28T05:00:00.000Z"],
      ["iex", "2024-11-27T20:00:00-05:00", "2024-11-28T05:00:00.000Z"], // IEX: no delay
      ["iex", "2024-11-27T19:59:59-05:00", "2024-11-27T05:00:00.000Z"],
      ["sip", "2024-07-03T20:15:00-04:00", "2024-07-04T04:00:00.000Z"], // EDT
      ["sip", "2024-03-11T01:30:00Z", "2024-03-11T04:00:00.000Z"], // 21:30 EDT on the Sunday DST started: that Sunday is complete
      ["sip", "2024-11-04T01:30:00Z", "2024-11-04T05:00:00.000Z"], // 20:30 EST on the day DST ends: Sunday complete
    ];
    for (const [feed, until, end] of cases) {
      const [row] = await db.sql<{ end: Date }[]>`select public.last_completed_session_end(${feed}, ${until}) as end`;
      expect([feed, until, row!.end.toISOString()]).toEqual([feed, until, end]);
    }
  });

  it("reads the cached calendar where it covers the day: a half day completes at its 17:00 close; a refresh never moves the end back", async () => {
    const endAt = async (until: string) => {
      const [row] = await db.sql<{ end: Date }[]>`select public.last_completed_session_end('sip', ${until}) as end`;
      return row!.end.toISOString();
    };
    const fridayHalfDay = ny("2024-11-29T17:30:00"); // the half day closed at 17:00, plus 15 minutes
    expect(await endAt(fridayHalfDay)).toBe("2024-11-29T05:00:00.000Z"); // the rule alone waits for 20:15
    const sessions = alpacaCalendarDays(parseDay("2024-11-25")!, parseDay("2024-12-01")!).map((r) => ({ ...r, source: "alpaca" }));
    await db.sql`select public.refresh_market_calendar('2024-11-25', '2024-12-01', ${db.sql.json(sessions as never)})`;
    expect(await endAt(fridayHalfDay)).toBe("2024-11-30T05:00:00.000Z");
    expect(await endAt(ny("2024-11-29T17:14:59"))).toBe("2024-11-29T05:00:00.000Z");
    // Sunday: the last cached session is Friday's, but the rule has passed Saturday; the later end wins.
    expect(await endAt(ny("2024-12-01T12:00:00"))).toBe("2024-12-01T05:00:00.000Z");
  });
});

describe("catch_up_followed_definitions", () => {
  it("appends the days completed since the covered end, over a holiday, a half day and a weekend; a second run adds nothing", async () => {
    const id = await follow(db.sql, ny("2024-11-27T23:00:00"));
    expect(await rangeOf(db.sql, id)).toMatchObject({ start: "2024-11-25T05:00:00.000Z", end: "2024-11-28T05:00:00.000Z" });
    // Thursday (Thanksgiving), Friday (a half day), then Saturday to Monday.
    const steps: [until: string, end: string][] = [
      [ny("2024-11-28T23:00:00"), "2024-11-29T05:00:00.000Z"],
      [ny("2024-11-29T23:00:00"), "2024-11-30T05:00:00.000Z"],
      [ny("2024-12-02T23:00:00"), "2024-12-03T05:00:00.000Z"],
    ];
    for (const [until, end] of steps) {
      const before = await rangeOf(db.sql, id);
      const [first] = await catchUp(db.sql, until);
      expect(first).toMatchObject({ job_def_id: String(id), note: null });
      expect(first!.covered_from.toISOString()).toBe(before.end);
      expect(first!.covered_to.toISOString()).toBe(end);
      expect(first!.slices_added).toBeGreaterThan(0);
      const after = await rangeOf(db.sql, id);
      expect(after).toEqual({ start: before.start, end, runs: before.runs + first!.slices_added });

      const again = await snapshot(db.sql);
      const [second] = await catchUp(db.sql, until);
      expect(second).toMatchObject({ slices_added: 0, note: "up to date" });
      expect((await snapshot(db.sql)).runs).toEqual(again.runs);
    }
    expect(await sliceCoverage(db.sql)).toMatchObject(exactCoverage(await sliceCoverage(db.sql)));
    const [state] = await db.sql`select caught_up_until from public.job_definitions where id = ${id}`;
    expect(state!.caught_up_until.toISOString()).toBe("2024-12-03T04:00:00.000Z");
  });

  it("serializes concurrent catch-ups on separate connections: the slices of one run, no overlap, no hole", async () => {
    await follow(db.sql, ny("2024-11-20T23:00:00"), { name: "A", from: ny("2024-11-18T00:00:00") });
    await follow(db.sql, ny("2024-11-20T23:00:00"), { name: "B", from: ny("2024-11-01T00:00:00") });
    const clients = Array.from({ length: 6 }, () => db.connect(1));
    try {
      const results = await Promise.all(clients.map((c) => catchUp(c, ny("2024-12-02T23:00:00"))));
      const added = results.flat().reduce((n, r) => n + r.slices_added, 0);
      expect(results.flat().filter((r) => r.slices_added > 0)).toHaveLength(2); // one catch-up per definition did the work
      const [{ runs }] = await db.sql<{ runs: number }[]>`
        select count(*)::int as runs from public.job_runs where slice_start >= '2024-11-21T05:00:00Z'`;
      expect(runs).toBe(added);
    } finally {
      await Promise.all(clients.map((c) => c.end()));
    }
    expect(await sliceCoverage(db.sql)).toMatchObject(exactCoverage(await sliceCoverage(db.sql)));
  });

  it("leaves disabled (cancelled) definitions alone, and the next catch-up after a retry covers every day since", async () => {
    const id = await follow(db.sql, ny("2024-11-27T23:00:00"));
    await db.sql`select public.cancel_job_definition(${id})`;
    expect(await catchUp(db.sql, ny("2024-11-29T23:00:00"))).toEqual([]);
    await db.sql`select public.retry_job_runs(${id}, true)`;
    const [row] = await catchUp(db.sql, ny("2024-12-02T23:00:00"));
    expect(row!.covered_from.toISOString()).toBe("2024-11-28T05:00:00.000Z");
    expect(row!.covered_to.toISOString()).toBe("2024-12-03T05:00:00.000Z");
    expect(await sliceCoverage(db.sql)).toMatchObject(exactCoverage(await sliceCoverage(db.sql)));
  });

  it("refuses an until before the sessions a definition covers, and writes nothing", async () => {
    await follow(db.sql, ny("2024-11-27T23:00:00"));
    const before = await snapshot(db.sql);
    await expect(catchUp(db.sql, ny("2024-11-26T23:00:00")))
      .rejects.toThrow(/until .* is before the sessions definition \d+ already covers .*only moves forward/);
    await expect(db.sql`select * from public.catch_up_followed_definitions(${ny("2024-12-02T23:00:00")}, 999)`)
      .rejects.toThrow(/definition 999 does not exist or is not followed/);
    expect(await snapshot(db.sql)).toEqual(before);
  });
});

describe("plan_followed_backfill", () => {
  it("is idempotent: planning the same followed definition again, later, finds it and creates nothing", async () => {
    const id = await follow(db.sql, ny("2024-11-27T23:00:00"));
    await catchUp(db.sql, ny("2024-11-29T23:00:00"));
    const before = await snapshot(db.sql);
    expect(await follow(db.sql, ny("2024-12-05T23:00:00"))).toBe(id);
    expect(await snapshot(db.sql)).toEqual(before);
  });

  it("refuses, writing nothing: nothing completed yet, a second followed start, an overlap with a fixed definition", async () => {
    await db.sql`select public.plan_backfill('batch', 'LIVE', '["AAPL","MSFT"]', '1Min', '2024-10-01Z', '2024-10-10Z')`;
    const before = await snapshot(db.sql);
    await expect(follow(db.sql, ny("2024-11-25T10:00:00"))).rejects.toThrow(/nothing to follow yet: no session has completed/);
    await expect(follow(db.sql, ny("2024-11-27T23:00:00"), { from: ny("2024-10-05T00:00:00") }))
      .rejects.toThrow(/definition \d+ already covers part of batch LIVE .* extend definition \d+ instead/);
    expect(await snapshot(db.sql)).toEqual(before);

    await follow(db.sql, ny("2024-11-27T23:00:00"));
    const followed = await snapshot(db.sql);
    await expect(follow(db.sql, ny("2024-11-27T23:00:00"), { from: ny("2024-11-20T00:00:00") }))
      .rejects.toThrow(/is already followed, from .* extend it/);
    expect(await snapshot(db.sql)).toEqual(followed);
  });
});

describe("extend_job_definition", () => {
  async function fixed(start = "2024-03-04T05:00:00Z", end = "2024-03-09T05:00:00Z", name = "FIXED"): Promise<number> {
    const [{ id }] = await db.sql<{ id: string }[]>`
      select public.plan_backfill('batch', ${name}, '["AAPL","MSFT","NVDA"]', '1Min', ${start}, ${end}, p_target_bars => 20000) as id`;
    return Number(id);
  }
  const extend = (id: number, from: string | null, to: string | null) =>
    db.sql<{ added: number }[]>`select public.extend_job_definition(${id}, ${from}::timestamptz, ${to}::timestamptz) as added`;

  it("plans only the uncovered slices, forwards and backwards; the first slices are untouched", async () => {
    const id = await fixed();
    const original = await db.sql`select id, slice_start, slice_end, status from public.job_runs order by slice_start`;
    const [{ added: forward }] = await extend(id, null, "2024-03-16T04:00:00Z");
    const [{ added: backward }] = await extend(id, "2024-02-26T05:00:00Z", null);
    expect(forward).toBeGreaterThan(0);
    expect(backward).toBeGreaterThan(0);
    expect(await rangeOf(db.sql, id)).toEqual({
      start: "2024-02-26T05:00:00.000Z", end: "2024-03-16T04:00:00.000Z", runs: original.length + forward + backward,
    });
    const kept = await db.sql`select id, slice_start, slice_end, status from public.job_runs where id in ${db.sql(original.map((r) => r.id))} order by slice_start`;
    expect([...kept]).toEqual([...original]);
    const added = await db.sql<{ slice_start: Date; slice_end: Date }[]>`
      select slice_start, slice_end from public.job_runs where id not in ${db.sql(original.map((r) => r.id))} order by slice_start`;
    for (const s of added) {
      const inside = s.slice_start >= new Date("2024-03-09T05:00:00Z") || s.slice_end <= new Date("2024-03-04T05:00:00Z");
      expect(inside).toBe(true);
    }
    expect(await sliceCoverage(db.sql)).toMatchObject(exactCoverage(await sliceCoverage(db.sql)));
    // The create that made it, run again, still finds it: nothing new.
    const again = await snapshot(db.sql);
    expect(await fixed()).toBe(id);
    expect(await snapshot(db.sql)).toEqual(again);
    // Extending to the same range adds nothing.
    expect((await extend(id, "2024-02-26T05:00:00Z", "2024-03-16T04:00:00Z"))[0]!.added).toBe(0);
    expect(await snapshot(db.sql)).toEqual(again);
  });

  it("extends a followed definition's start only", async () => {
    const id = await follow(db.sql, ny("2024-11-27T23:00:00"));
    const [{ added }] = await extend(id, ny("2024-11-18T00:00:00"), null);
    expect(added).toBeGreaterThan(0);
    expect((await rangeOf(db.sql, id)).start).toBe("2024-11-18T05:00:00.000Z");
    expect(await sliceCoverage(db.sql)).toMatchObject(exactCoverage(await sliceCoverage(db.sql)));
  });

  it("refuses shrinking, a followed definition's end, overlaps and unknown ids, and writes nothing", async () => {
    const id = await fixed();
    const other = await fixed("2024-03-11T04:00:00Z", "2024-03-16T04:00:00Z");
    const live = await follow(db.sql, ny("2024-11-27T23:00:00"));
    const before = await snapshot(db.sql);
    await expect(extend(id, "2024-03-05T05:00:00Z", null)).rejects.toThrow(/new start .* is after definition \d+'s start .* only grows/);
    await expect(extend(id, null, "2024-03-08T05:00:00Z")).rejects.toThrow(/new end .* is before definition \d+'s end .* only grows/);
    await expect(extend(id, null, "2024-03-12T04:00:00Z"))
      .rejects.toThrow(new RegExp(`definition ${other} already covers part of .* extending definition ${id} would fetch those bars twice`));
    await expect(extend(other, "2024-03-01T05:00:00Z", null))
      .rejects.toThrow(new RegExp(`definition ${id} already covers part of`));
    await expect(extend(live, null, "2024-12-31T05:00:00Z")).rejects.toThrow(/is followed: its end moves with each catch-up/);
    await expect(extend(424242, null, "2024-12-31T05:00:00Z")).rejects.toThrow(/no definition with id 424242/);
    expect(await snapshot(db.sql)).toEqual(before);
  });

  it("a catch-up that would run into another definition of the same symbols stops and says which", async () => {
    const live = await follow(db.sql, ny("2024-11-27T23:00:00"));
    // A fixed definition after the followed one's end, written directly (the planner only refuses overlaps where it grows a range).
    await db.sql`insert into public.job_definitions (kind, symbol, symbols_array, timeframe, range_start, range_end)
                 values ('batch', 'LIVE', '["AAPL","MSFT"]', '1Min', '2024-12-02T05:00:00Z', '2024-12-03T05:00:00Z')`;
    const before = await snapshot(db.sql);
    const [row] = await catchUp(db.sql, ny("2024-12-05T23:00:00"));
    expect(row).toMatchObject({ job_def_id: String(live), slices_added: 0 });
    expect(row!.note).toMatch(/^blocked: definition \d+ already covers part of/);
    const after = await snapshot(db.sql);
    expect(after.runs).toEqual(before.runs);
    expect(after.defs.map((d) => d.range_end)).toEqual(before.defs.map((d) => d.range_end));
  });
});

describe("setup_follow_catch_up_cron", () => {
  it("says what it skipped on a database without pg_cron", async () => {
    const [{ line }] = await db.sql<{ line: string }[]>`select public.setup_follow_catch_up_cron() as line`;
    expect(line).toBe("skipped bars-follow-catch-up: pg_cron is not installed in this database");
  });
});
