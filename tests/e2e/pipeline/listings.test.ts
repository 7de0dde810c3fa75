/**
 * Symbols that stop trading or start late, end to end: a basket made with
 * `jobs create --universe` while DLST was still listed, DLST delisted after
 * 2024-03-06 (the simulator serves no bar of it after that), NEWL listed on
 * 2024-03-06 (none before), and a single-symbol definition of DLST whose every
 * slice has no bars at all. Every run succeeds, every bar equals the ground
 * truth, a rerun of the universe keeps DLST's basket, and `jobs gaps` says why
 * each missing day is missing.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEFAULT_SIM_KEY_ID, DEFAULT_SIM_SECRET } from "../../../scripts/alpaca-sim/index.ts";
import { runJobs } from "../../helpers/run-cli.ts";
import { compareWithGroundTruth, startStack, type Stack } from "../../helpers/stack.ts";

let stack: Stack;
let env: Record<string, string>;
const RANGE = ["--from", "2024-03-04", "--to", "2024-03-09"];

beforeAll(async () => {
  // DLST as it was listed before its delisting: active and tradable.
  stack = await startStack({ sim: { extraAssets: [{ symbol: "DLST", exchange: "NYSE" }] } });
  env = { DATABASE_URL: stack.db.url, APCA_API_KEY_ID: DEFAULT_SIM_KEY_ID, APCA_API_SECRET_KEY: DEFAULT_SIM_SECRET, ALPACA_TRADING_URL: stack.sim.tradingUrl };
});
afterAll(async () => {
  await stack?.stop();
});

interface GapRow {
  symbol: string;
  day: string;
  stored: number;
  flags: string[];
  why?: string;
  calendar: string;
}

describe("delistings, new listings and empty slices", () => {
  it("never fail a run, store exactly the ground truth, and gaps says why days are missing", async () => {
    // One-day slices (3 symbols x 960 bars x 5/7 per day = ~2,000), so some slices hold no DLST or NEWL bar.
    const made = await runJobs(["create", "--kind", "batch", "--universe", "--prefix", "LIFE", "--symbols", "AAPL,DLST,NEWL",
      "--target-bars", "2000", ...RANGE], env);
    expect(made.stderr).toBe("");
    expect(made.code).toBe(0);
    const single = await runJobs(["create", "--kind", "single", "--symbol", "DLST", "--from", "2024-03-07", "--to", "2024-03-09"], env);
    expect(single.code).toBe(0);

    // Delisted now: the asset list says inactive; a rerun of the universe keeps the basket as it was.
    stack.sim.addAssets([{ symbol: "DLST", exchange: "NYSE", status: "inactive", tradable: false }]);
    const rerun = await runJobs(["create", "--kind", "batch", "--universe", "--prefix", "LIFE", "--symbols", "AAPL,NEWL",
      "--target-bars", "2000", ...RANGE, "--json"], env);
    expect(rerun.code).toBe(0);
    expect(JSON.parse(rerun.stdout).universe).toMatchObject({ newBaskets: [], staleSymbols: ["DLST"] });

    const [{ slices }] = await stack.sql`select count(*)::int as slices from public.job_runs`;
    expect(slices).toBeGreaterThanOrEqual(6);
    await stack.drain({ timeoutMs: 120_000, maxRuns: 8 });
    const statuses = await stack.sql`select status, count(*)::int as n from public.job_runs group by status`;
    expect(statuses).toEqual([{ status: "success", n: slices }]);
    const empty = await stack.sql`
      select count(*)::int as n from public.job_runs r join public.job_definitions d on d.id = r.job_def_id
       where d.kind = 'single' and r.rows_written = 0`;
    expect(empty[0]!.n).toBeGreaterThan(0);

    const truth = await compareWithGroundTruth(stack.sql);
    expect(truth).toMatchObject({ missing: 0, extra: 0, different: 0, stored: truth.expected });

    const [{ id }] = await stack.sql`select id::text from public.job_definitions where symbol = 'LIFE_1'`;
    const gaps = await runJobs(["gaps", "--id", id, "--json", "--flagged-only"], env);
    expect(gaps.code).toBe(0);
    const { rows, summary } = JSON.parse(gaps.stdout) as { rows: GapRow[]; summary: { calendar: Record<string, number> } };
    expect(rows.map((r) => `${r.symbol} ${r.day}: ${r.why}`)).toEqual([
      "DLST 2024-03-07: asset inactive at Alpaca (delisted or renamed); last bar 2024-03-06",
      "DLST 2024-03-08: asset inactive at Alpaca (delisted or renamed); last bar 2024-03-06",
      "NEWL 2024-03-04: before its first bar (2024-03-06): listed later?",
      "NEWL 2024-03-05: before its first bar (2024-03-06): listed later?",
    ]);
    expect(summary.calendar).toMatchObject({ notCached: 0 });
    expect(rows.every((r) => r.calendar === "alpaca")).toBe(true);
  });
});
