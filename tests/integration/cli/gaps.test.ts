import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { expectedBars } from "../../../scripts/alpaca-sim/ground-truth.ts";
import { createTestDb, type TestDb } from "../../helpers/db.ts";
import { runJobs } from "../../helpers/run-cli.ts";

let db: TestDb;
let env: Record<string, string>;
let defId = "";
// Thanksgiving week 2024: Thu 11-28 closed, Fri 11-29 a half day (13:00 / 17:00 close), then a weekend.
const RANGE = { start: "2024-11-25T05:00:00Z", end: "2024-12-03T05:00:00Z" };

interface GapRow {
  symbol: string;
  day: string;
  session: string;
  stored: number;
  ceiling: number;
  truth: number;
  flags: string[];
}

beforeAll(async () => {
  db = await createTestDb();
  env = { DATABASE_URL: db.url };
  [{ id: defId }] = await db.sql<{ id: string }[]>`
    select public.plan_backfill('batch', 'PAIR', '["KO","PEP"]'::jsonb, '1Min', ${RANGE.start}, ${RANGE.end})::text as id`;
  // Fill the range exactly as the simulator serves it.
  const rows = [...expectedBars({ symbols: ["KO", "PEP"], timeframe: "1Min", start: RANGE.start, end: "2024-12-03T04:59:59Z" })]
    .map((b) => ({ symbol: b.symbol, timeframe: "1Min", ts: b.t, open: b.o, high: b.h, low: b.l, close: b.c, volume: b.v, trade_count: b.n, vwap: b.vw }));
  for (let i = 0; i < rows.length; i += 2000) await db.sql`insert into public.bars ${db.sql(rows.slice(i, i + 2000))}`;
});
afterAll(async () => {
  await db.drop();
});

async function gaps(...extra: string[]): Promise<{ rows: GapRow[]; summary: Record<string, number> }> {
  const res = await runJobs(["gaps", "--id", defId, "--ground-truth", "--json", ...extra], env);
  expect(res.stderr).toBe("");
  expect(res.code).toBe(0);
  return JSON.parse(res.stdout);
}

describe("jobs gaps", () => {
  it("reports nothing missing for a range filled from the ground truth, with the calendar's ceilings", async () => {
    const { rows, summary } = await gaps();
    expect(summary).toMatchObject({ missing: 0, extra: 0, flagged: 0, tradingDaysWithoutBars: 0, nonTradingDaysWithBars: 0 });
    expect(summary.stored).toBe(summary.groundTruth);
    // Five trading days per symbol; no row for the holiday or the weekend.
    expect(rows.filter((r) => r.symbol === "KO").map((r) => [r.day, r.session, r.ceiling])).toEqual([
      ["2024-11-25", "full", 960], ["2024-11-26", "full", 960], ["2024-11-27", "full", 960],
      ["2024-11-29", "half", 780], ["2024-12-02", "full", 960],
    ]);
    for (const r of rows) expect(r.stored).toBe(r.truth);
  });

  it("flags a deleted day and bars on a non-trading day, in the table an operator reads", async () => {
    const [{ n: deleted }] = await db.sql<{ n: number }[]>`
      with d as (delete from public.bars where symbol = 'PEP' and ts >= '2024-11-26T09:00Z' and ts < '2024-11-27T05:00Z' returning 1)
      select count(*)::int as n from d`;
    expect(deleted).toBeGreaterThan(100);
    await db.sql`insert into public.bars values ('KO', '1Min', '2024-11-28T15:00Z', 1, 1, 1, 1, 100, 1, 1)`;

    const res = await runJobs(["gaps", "--id", defId, "--ground-truth", "--flagged-only"], env);
    expect(res.code).toBe(0);
    const flagged = res.stdout.split("\n").filter((l) => /^(KO|PEP)\s/.test(l));
    expect(flagged).toHaveLength(2);
    expect(flagged[0]).toMatch(/^KO\s+2024-11-28\s+closed\s+1\s+0\s+0\s+bars on a non-trading day; 1 extra vs ground truth$/);
    expect(flagged[1]).toMatch(new RegExp(`^PEP\\s+2024-11-26\\s+full\\s+0\\s+960\\s+${deleted}\\s+no bars on a trading day; ${deleted} missing`));
    expect(res.stdout).toContain(`missing ${deleted}, extra 1`);
  });
});
