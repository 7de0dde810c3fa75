/**
 * A followed definition over simulated days, on the whole stack: the backfill,
 * then three catch-ups with `until` moved a day at a time (over Thanksgiving, the
 * half day after it, and the weekend), each drained by the real functions and
 * compared bar for bar with the simulator's ground truth; each catch-up run a
 * second time adds nothing and asks Alpaca for nothing. Then extend, backwards
 * and forwards: only the uncovered slices are planned and fetched.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { compareWithGroundTruth, duplicateBars, startStack, type Stack } from "../../helpers/stack.ts";
import { exactCoverage, sliceCoverage } from "../../helpers/slice-coverage.ts";

let stack: Stack;
beforeAll(async () => {
  stack = await startStack();
});
afterAll(async () => {
  await stack?.stop();
});

const SYMBOLS = ["AAPL", "MSFT", "BRK.B"];
/** 23:00 New York (EST) on a day of Thanksgiving week 2024. */
const evening = (day: string) => `2024-${day}T23:00:00-05:00`;

async function queueState() {
  const [row] = await stack.sql<{ runs: number; bars: number; requests: number }[]>`
    select (select count(*)::int from public.job_runs) as runs, (select count(*)::int from public.bars) as bars`;
  return { ...row!, requests: stack.sim.stats().requests };
}

async function expectExact() {
  const truth = await compareWithGroundTruth(stack.sql);
  expect(truth.expected).toBeGreaterThan(0);
  expect(truth).toEqual({ expected: truth.expected, stored: truth.expected, missing: 0, extra: 0, different: 0 });
  expect(await duplicateBars(stack.sql)).toBe(0);
  const coverage = await sliceCoverage(stack.sql);
  expect(coverage).toMatchObject(exactCoverage(coverage));
  return truth;
}

/** Bars per symbol stored on one New York day. */
async function barsOn(day: string): Promise<number[]> {
  const rows = await stack.sql<{ n: number }[]>`
    select count(*)::int as n from public.bars
     where (ts at time zone 'America/New_York')::date = ${day}::date group by symbol order by symbol`;
  return rows.map((r) => r.n);
}

describe("a followed definition over simulated days", () => {
  let id: number;

  it("backfills through the last completed session", async () => {
    const [row] = await stack.sql<{ id: string }[]>`
      select public.plan_followed_backfill('batch', 'LIVE', ${SYMBOLS as never}::jsonb, '1Min', '2024-11-25T00:00:00-05:00',
                                           p_until => ${evening("11-27")}) as id`;
    id = Number(row!.id);
    await stack.drain();
    const [def] = await stack.sql`select range_end from public.job_definitions where id = ${id}`;
    expect(def!.range_end.toISOString()).toBe("2024-11-28T05:00:00.000Z");
    await expectExact();
  });

  const days: [label: string, until: string, day: string, check: (perSymbol: number[]) => void][] = [
    ["a holiday (Thanksgiving): a slice with no bars", evening("11-28"), "2024-11-28", (n) => expect(n).toEqual([])],
    ["a half day: bars only up to the early close's extended hours", evening("11-29"), "2024-11-29", (n) => {
      expect(n).toHaveLength(3);
      for (const c of n) expect(c).toBeLessThanOrEqual(780);
    }],
    ["a weekend and the Monday after it", evening("12-02"), "2024-12-02", (n) => expect(n).toHaveLength(3)],
  ];
  for (const [label, until, day, check] of days) {
    it(`catches up over ${label}; a second run adds nothing`, async () => {
      const before = await queueState();
      const [first] = await stack.sql`select * from public.catch_up_followed_definitions(${until})`;
      expect(first!.slices_added).toBeGreaterThan(0);
      await stack.drain();
      const truth = await expectExact();
      expect(truth.stored).toBeGreaterThanOrEqual(before.bars);
      check(await barsOn(day));

      const after = await queueState();
      const [second] = await stack.sql`select * from public.catch_up_followed_definitions(${until})`;
      expect(second).toMatchObject({ slices_added: 0, note: "up to date" });
      await stack.drain();
      expect(await queueState()).toEqual(after);
    });
  }

  it("the weekend left no bars, and the definition is covered through Monday", async () => {
    expect(await barsOn("2024-11-30")).toEqual([]);
    expect(await barsOn("2024-12-01")).toEqual([]);
    const [f] = await stack.sql`select covered_through_day::text as day from public.job_follow_status where job_def_id = ${id}`;
    expect(f!.day).toBe("2024-12-02");
  });
});

describe("extend", () => {
  it("plans and fetches only the uncovered slices, backwards and forwards; bars equal the ground truth", async () => {
    const [row] = await stack.sql<{ id: string }[]>`
      select public.plan_backfill('batch', 'GROW', '["NVDA","KO"]'::jsonb, '1Min', '2024-03-05T00:00:00-05:00',
                                  '2024-03-07T00:00:00-05:00', p_target_bars => 2000) as id`;
    const id = Number(row!.id);
    await stack.drain();
    await expectExact();
    const done = await stack.sql`select id, slice_start, slice_end, finished_at, attempt from public.job_runs where job_def_id = ${id} order by id`;
    const requests = stack.sim.stats().requests;

    const [{ added }] = await stack.sql<{ added: number }[]>`
      select public.extend_job_definition(${id}, '2024-03-04T00:00:00-05:00', '2024-03-09T00:00:00-05:00') as added`;
    const fresh = await stack.sql<{ slice_start: Date; slice_end: Date }[]>`
      select slice_start, slice_end from public.job_runs where job_def_id = ${id} and status = 'queued' order by slice_start`;
    expect(fresh).toHaveLength(added);
    for (const s of fresh) {
      const outside = s.slice_end <= new Date("2024-03-05T05:00:00Z") || s.slice_start >= new Date("2024-03-07T05:00:00Z");
      expect(outside).toBe(true);
    }
    await stack.drain();
    await expectExact();
    // The slices done before were neither planned again nor run again.
    const kept = await stack.sql`select id, slice_start, slice_end, finished_at, attempt from public.job_runs
                                  where id in ${stack.sql(done.map((r) => r.id))} order by id`;
    expect([...kept]).toEqual([...done]);
    expect(stack.sim.stats().requests).toBeGreaterThan(requests);
    expect(await barsOn("2024-03-04")).toHaveLength(2); // the day planned by extending backwards: both of GROW's symbols
  });
});
