/**
 * `jobs calendar refresh|show` against the simulator's GET /v2/calendar, the
 * rule fallback where Alpaca's calendar ends, and `jobs gaps` reading the
 * cached sessions (a half day or a closure Alpaca announces wins over the
 * rules).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type AlpacaSim, DEFAULT_SIM_KEY_ID, DEFAULT_SIM_SECRET } from "../../../scripts/alpaca-sim/index.ts";
import { createTestDb, type TestDb } from "../../helpers/db.ts";
import { runJobs } from "../../helpers/run-cli.ts";
import { startTestSim } from "../alpaca/sim-helpers.ts";

let db: TestDb;
let sim: AlpacaSim;
let env: Record<string, string>;
beforeAll(async () => {
  [db, sim] = await Promise.all([createTestDb(), startTestSim()]);
  env = { DATABASE_URL: db.url, APCA_API_KEY_ID: DEFAULT_SIM_KEY_ID, APCA_API_SECRET_KEY: DEFAULT_SIM_SECRET, ALPACA_TRADING_URL: sim.tradingUrl };
});
afterAll(async () => {
  await Promise.all([db.drop(), sim.close()]);
});

describe("jobs calendar", () => {
  it("refreshes a range from Alpaca, falls back to the rules past Alpaca's last year, and shows where each day comes from", async () => {
    const res = await runJobs(["calendar", "refresh", "--from", "2029-12-27", "--to", "2030-01-05"], env);
    expect(res.stderr).toBe("");
    expect(res.code).toBe(0);
    expect(res.stdout).toContain("calendar 2029-12-27 .. 2030-01-04: 6 session(s) cached (3 from Alpaca, 3 by rule where Alpaca has none)");
    const stored = await db.sql`select day::text, source from public.market_calendar order by day`;
    expect(stored.map((r) => `${r.day} ${r.source}`)).toEqual([
      "2029-12-27 alpaca", "2029-12-28 alpaca", "2029-12-31 alpaca", "2030-01-02 rules", "2030-01-03 rules", "2030-01-04 rules",
    ]);
    expect(sim.tradingRequests().calendar).toBe(1);

    const show = await runJobs(["calendar", "show", "--from", "2029-12-31", "--to", "2030-01-07", "--json"], env);
    expect(show.code).toBe(0);
    expect((JSON.parse(show.stdout) as Array<{ day: string; session: string; source: string }>).map((r) => `${r.day} ${r.session} ${r.source}`))
      .toEqual([
        "2029-12-31 full alpaca", "2030-01-01 closed rules", "2030-01-02 full rules", "2030-01-03 full rules",
        "2030-01-04 full rules", "2030-01-05 closed rules, not cached", "2030-01-06 closed rules, not cached",
      ]);
  });

  it("refuses an inverted range (exit 2) and a wrong key (exit 1, secret unprinted), writing nothing", async () => {
    const [{ n: before }] = await db.sql`select count(*)::int as n from public.market_calendar_ranges`;
    const inverted = await runJobs(["calendar", "refresh", "--from", "2024-03-09", "--to", "2024-03-04"], env);
    expect(inverted.code).toBe(2);
    expect(inverted.stderr).toMatch(/--to: must be after --from/);
    const wrong = await runJobs(["calendar", "refresh", "--from", "2024-03-04", "--to", "2024-03-09"], { ...env, APCA_API_SECRET_KEY: "wrong-secret-42" });
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toMatch(/Alpaca rejected the API key \(401\)/);
    expect(wrong.stderr).not.toContain("wrong-secret-42");
    const [{ n: after }] = await db.sql`select count(*)::int as n from public.market_calendar_ranges`;
    expect(after).toBe(before);
  });
});

describe("jobs gaps on the cached calendar", () => {
  it("takes sessions, half days and closures from the cache, and the rules only where nothing is cached", async () => {
    // What Alpaca might announce and no rule knows: an early close on Wed 2024-03-06, a closure on Thu 2024-03-07.
    const week = [
      { date: "2024-03-04", open: "09:30", close: "16:00", session_open: "0400", session_close: "2000", source: "alpaca" },
      { date: "2024-03-05", open: "09:30", close: "16:00", session_open: "0400", session_close: "2000", source: "alpaca" },
      { date: "2024-03-06", open: "09:30", close: "13:00", session_open: "0400", session_close: "1700", source: "alpaca" },
      { date: "2024-03-08", open: "09:30", close: "16:00", session_open: "0400", session_close: "2000", source: "alpaca" },
    ];
    await db.sql`select public.refresh_market_calendar('2024-03-04', '2024-03-08', ${db.sql.json(week)})`;
    const res = await runJobs(["gaps", "--symbols", "KO", "--from", "2024-03-04", "--to", "2024-03-12", "--json"], env);
    expect(res.code).toBe(0);
    const { rows, summary } = JSON.parse(res.stdout) as {
      rows: Array<{ day: string; session: string; ceiling: number; calendar: string; why?: string }>;
      summary: { calendar: Record<string, number> };
    };
    expect(rows.map((r) => `${r.day} ${r.session} ${r.ceiling} ${r.calendar}`)).toEqual([
      "2024-03-04 full 960 alpaca", "2024-03-05 full 960 alpaca", "2024-03-06 half 780 alpaca", "2024-03-08 full 960 alpaca",
      "2024-03-11 full 960 rules, not cached",
    ]);
    expect(rows.every((r) => r.why === "no slice covers this session")).toBe(true);
    expect(summary.calendar).toEqual({ alpaca: 4, rules: 0, notCached: 1 });

    // Planning counts the range's sessions from the same cache (the announced closure included).
    const planned = await runJobs(["create", "--kind", "batch", "--name", "WEEK", "--symbols", "KO", "--from", "2024-03-04", "--to", "2024-03-09", "--json"], env);
    expect(planned.code).toBe(0);
    expect(JSON.parse(planned.stdout).calendar).toEqual({ firstDay: "2024-03-04", lastDay: "2024-03-08", cached: true, sessions: 4 });
  });
});

describe("jobs create reads the calendar", () => {
  it("says when a range has no session, and when its calendar is not cached", async () => {
    const res = await runJobs(["create", "--kind", "batch", "--name", "WKND", "--symbols", "KO", "--from", "2024-03-16", "--to", "2024-03-18"], env);
    expect(res.code).toBe(0);
    expect(res.stdout).toContain("calendar: 2024-03-16 .. 2024-03-17, 0 session(s) (by rule, not cached: npm run jobs -- calendar refresh " +
      "--from 2024-03-16 --to 2024-03-18 caches Alpaca's); no trading session in the range: its slices will store nothing");
  });
});
