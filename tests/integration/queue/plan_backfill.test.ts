import { describe, expect, it } from "vitest";
import { useTestDb } from "../../helpers/db.ts";

const db = useTestDb();

const fifty: string[] = (Array.from({ length: 50 }, (_, i) => `T${String.fromCharCode(65 + (i % 26))}${String.fromCharCode(65 + Math.floor(i / 26))}`));
const PAGE = 10_000;
/** Most bars one symbol can have per 1Min trading day: 04:00-20:00 ET. */
const MAX_1MIN_BARS_PER_DAY = 960;

async function plan(symbols: string[], start = "2024-01-01Z", end = "2024-04-01Z") {
  const [{ id }] = await db.sql`
    select public.plan_backfill('batch', 'US_BATCH_1', ${symbols as never}::jsonb, '1Min', ${start}, ${end}) as id`;
  return Number(id);
}

describe("plan_backfill", () => {
  it("slices a 50-symbol 1Min batch over 3 months into about 50 pages each, covering the range exactly", async () => {
    const id = await plan(fifty);
    const slices = await db.sql<{ slice_start: Date; slice_end: Date }[]>`
      select slice_start, slice_end from public.job_runs where job_def_id = ${id} order by slice_start`;
    expect(slices.length).toBeGreaterThanOrEqual(5);
    expect(slices.length).toBeLessThanOrEqual(10);
    // Contiguous, non-overlapping, from range start to range end.
    expect(slices[0]!.slice_start.toISOString()).toBe("2024-01-01T00:00:00.000Z");
    expect(slices.at(-1)!.slice_end.toISOString()).toBe("2024-04-01T00:00:00.000Z");
    for (let i = 1; i < slices.length; i++) expect(slices[i]!.slice_start).toEqual(slices[i - 1]!.slice_end);
    // Page budget: even at the densest (every minute of every session, every day),
    // a slice holds at most ~75 pages (a run spans isolates by handing back); on average about 50.
    for (const s of slices) {
      const days = (s.slice_end.getTime() - s.slice_start.getTime()) / 86_400_000;
      const worstCasePages = (Math.ceil(days) * 50 * MAX_1MIN_BARS_PER_DAY) / PAGE;
      expect(worstCasePages).toBeLessThanOrEqual(75);
    }
    const fullSlices = slices.slice(0, -1);
    const avgDays = fullSlices.reduce((t, s) => t + (s.slice_end.getTime() - s.slice_start.getTime()) / 86_400_000, 0) / fullSlices.length;
    const avgPages = (avgDays * (5 / 7) * 50 * MAX_1MIN_BARS_PER_DAY) / PAGE;
    expect(avgPages).toBeGreaterThanOrEqual(40);
    expect(avgPages).toBeLessThanOrEqual(60);
  });

  it("sizes slices by basket size: 11 symbols get longer slices than 50, one symbol longer still", async () => {
    const eleven = fifty.slice(0, 11);
    const [{ d50, d11, d1, d1day }] = await db.sql`
      select public.slice_days_for(50, '1Min') as d50, public.slice_days_for(11, '1Min') as d11,
             public.slice_days_for(1, '1Min') as d1, public.slice_days_for(1, '1Day') as d1day`;
    expect(d50).toBeLessThan(d11);
    expect(d11).toBeLessThan(d1);
    expect(d1).toBeLessThan(d1day);
    expect(eleven).toHaveLength(11);
  });

  it("is idempotent: planning the same backfill twice creates nothing new", async () => {
    await db.sql`truncate public.job_definitions cascade`;
    const first = await plan(fifty);
    const [before] = await db.sql`select count(*)::int as runs, (select count(*)::int from public.job_definitions) as defs from public.job_runs`;
    const second = await plan(fifty);
    const [after] = await db.sql`select count(*)::int as runs, (select count(*)::int from public.job_definitions) as defs from public.job_runs`;
    expect(second).toBe(first);
    expect(after).toEqual(before);
  });

  it("refuses to re-plan a basket name with different symbols", async () => {
    await db.sql`truncate public.job_definitions cascade`;
    await plan(fifty);
    await expect(plan(["AAPL", "MSFT"])).rejects.toThrow(/already exists with different symbols/);
  });

  it("refuses invalid definitions through the same rules", async () => {
    await expect(
      db.sql`select public.plan_backfill('single', 'US_BATCH_1', null, '1Min', '2024-01-01Z', '2024-01-02Z')`,
    ).rejects.toThrow(/single_symbol_is_a_ticker/);
    await expect(
      db.sql`select public.plan_backfill('batch', 'B', '["AAPL"]'::jsonb, '1Min', '2024-02-01Z', '2024-01-02Z')`,
    ).rejects.toThrow(/range_is_not_empty/);
  });
});

describe("plan_backfill re-planning", () => {
  it("does not add overlapping slices when the same definition is planned with another slice size", async () => {
    await db.sql`truncate public.job_definitions cascade`;
    const first = await plan(fifty);
    const [{ n: before }] = await db.sql`select count(*)::int as n from public.job_runs`;
    const [{ id }] = await db.sql`
      select public.plan_backfill('batch', 'US_BATCH_1', ${fifty as never}::jsonb, '1Min', '2024-01-01Z', '2024-04-01Z',
                                  p_target_bars => 5000) as id`;
    const [{ n: after }] = await db.sql`select count(*)::int as n from public.job_runs`;
    expect(Number(id)).toBe(first);
    expect(after).toBe(before);
  });
});
