/**
 * `jobs create --universe` against the simulator's Trading API: baskets from
 * the asset list are deterministic, filtered as asked, stable when the list
 * grows; the seed's US_BATCH_1/US_BATCH_2 can be made this way; bad input is
 * refused with exit 2 and nothing written (every table checked).
 */
import { writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type AlpacaSim, DEFAULT_SIM_KEY_ID, DEFAULT_SIM_SECRET } from "../../../scripts/alpaca-sim/index.ts";
import { US_BATCH_1, US_BATCH_2 } from "../../../scripts/lib/seed-baskets.ts";
import { TICKER } from "../../../supabase/functions/_shared/slice.ts";
import { createTestDb, type TestDb } from "../../helpers/db.ts";
import { runJobs } from "../../helpers/run-cli.ts";
import { startTestSim } from "../alpaca/sim-helpers.ts";

let db: TestDb;
let sim: AlpacaSim;
let env: Record<string, string>;
beforeAll(async () => {
  [db, sim] = await Promise.all([createTestDb(), startTestSim({ tradingPort: 0 })]);
  env = { DATABASE_URL: db.url, APCA_API_KEY_ID: DEFAULT_SIM_KEY_ID, APCA_API_SECRET_KEY: DEFAULT_SIM_SECRET, ALPACA_TRADING_URL: sim.tradingUrl };
});
afterAll(async () => {
  await Promise.all([db.drop(), sim.close()]);
});

const RANGE = ["--from", "2024-03-04", "--to", "2024-03-09"];

async function create(...args: string[]) {
  return await runJobs(["create", "--kind", "batch", "--universe", ...RANGE, ...args], env);
}

async function baskets(prefix: string): Promise<Array<{ name: string; symbols: string[] }>> {
  return await db.sql<Array<{ name: string; symbols: string[] }>>`
    select symbol as name, symbols_array as symbols from public.job_definitions
     where symbol like ${`${prefix}\\_%`} order by length(symbol), symbol, id`;
}

/** Every row of every table the CLI could write: "nothing written" means this did not change. */
async function everything() {
  const [row] = await db.sql`
    select (select count(*)::int from public.job_definitions) as definitions, (select count(*)::int from public.job_runs) as runs,
           (select count(*)::int from public.alpaca_assets) as assets, (select count(*)::int from public.market_calendar) as sessions,
           (select count(*)::int from public.market_calendar_ranges) as ranges`;
  return row;
}

/** What the filters should keep, worked out from the simulator's own list. */
function expected(keep: (a: ReturnType<AlpacaSim["assets"]>[number]) => boolean, size: number): string[][] {
  const symbols = sim.assets().filter((a) => keep(a) && TICKER.test(a.symbol)).map((a) => a.symbol).sort();
  const out: string[][] = [];
  for (let i = 0; i < symbols.length; i += size) out.push(symbols.slice(i, i + size));
  return out;
}

describe("jobs create --universe", () => {
  it("splits the filtered asset list, in symbol order, into PREFIX_1..k; a rerun changes nothing", async () => {
    const res = await create("--prefix", "EQ", "--basket-size", "20", "--exchange", "NYSE,NASDAQ");
    expect(res.stderr).toBe("");
    expect(res.code).toBe(0);
    const want = expected((a) => a.status === "active" && a.tradable && a.class === "us_equity" && ["NYSE", "NASDAQ"].includes(a.exchange), 20);
    const got = await baskets("EQ");
    expect(got.map((b) => b.symbols)).toEqual(want);
    expect(got.map((b) => b.name)).toEqual(want.map((_, i) => `EQ_${i + 1}`));
    const all = got.flatMap((b) => b.symbols);
    expect(all).toEqual(expect.arrayContaining(["BRK.B", "BF.B", "AAPL", "NEWL"]));
    for (const out of ["DLST", "FB", "NOTRD", "NSRGY", "SPY", "CBOE", "BTC/USD"]) expect(all).not.toContain(out);
    expect(res.stdout).toMatch(/universe: \d+ of \d+ listed assets pass the filters \(status active, us_equity, tradable, exchanges NYSE,NASDAQ\)/);
    expect(res.stdout).toContain("calendar: 2024-03-04 .. 2024-03-08, 5 session(s) (cached now: 5 from Alpaca, 0 by rule)");

    const before = await everything();
    const again = await create("--prefix", "EQ", "--basket-size", "20", "--exchange", "NYSE,NASDAQ", "--json");
    expect(again.code).toBe(0);
    const out = JSON.parse(again.stdout);
    expect(out.definitions.map((d: { state: string }) => d.state)).toEqual(want.map(() => "existed"));
    expect(out.universe).toMatchObject({ newBaskets: [], addedSymbols: [] });
    expect(out.universe.calendar).toMatchObject({ refreshed: false, sessions: 5 });
    expect(await everything()).toEqual(before);
  });

  it("keeps the old baskets when the list grows: new listings land in a new basket, on any range", async () => {
    const first = await create("--prefix", "GROW", "--basket-size", "40");
    expect(first.code).toBe(0);
    const old = await baskets("GROW");
    // AAAA sorts before every old symbol; a fresh split would shift every basket by one.
    sim.addAssets([{ symbol: "AAAA", exchange: "NYSE" }, { symbol: "ZNEW", exchange: "BATS" }]);
    try {
      const rerun = await create("--prefix", "GROW", "--basket-size", "40", "--json");
      expect(rerun.code).toBe(0);
      const out = JSON.parse(rerun.stdout);
      expect(out.universe).toMatchObject({ addedSymbols: ["AAAA", "ZNEW"], newBaskets: [`GROW_${old.length + 1}`] });
      const now = await baskets("GROW");
      expect(now.slice(0, old.length)).toEqual(old);
      expect(now.slice(old.length)).toEqual([{ name: `GROW_${old.length + 1}`, symbols: ["AAAA", "ZNEW"] }]);
      // Another range plans the same baskets: each name keeps its symbols.
      const later = await runJobs(["create", "--kind", "batch", "--universe", "--prefix", "GROW", "--basket-size", "40",
        "--from", "2024-03-11", "--to", "2024-03-16"], env);
      expect(later.code).toBe(0);
      const [{ mismatched }] = await db.sql`
        select count(*)::int as mismatched from public.job_definitions a join public.job_definitions b on a.symbol = b.symbol
         where a.symbol like 'GROW\\_%' and a.symbols_array is distinct from b.symbols_array`;
      expect(mismatched).toBe(0);
    } finally {
      sim.addAssets([{ symbol: "AAAA", exchange: "NYSE", status: "inactive", tradable: false },
        { symbol: "ZNEW", exchange: "BATS", status: "inactive", tradable: false }]);
    }
  });

  it("makes the seed's US_BATCH_1 (50) and US_BATCH_2 (11) from the seed's symbol list", async () => {
    const file = join(tmpdir(), `seed-universe-${process.pid}.txt`);
    await writeFile(file, `# the seed's baskets\n${[...US_BATCH_1, ...US_BATCH_2].join("\n")}\n`);
    const res = await create("--symbols-file", file, "--prefix", "US_BATCH", "--basket-size", "50");
    expect(res.stderr).toBe("");
    expect(res.code).toBe(0);
    const got = await baskets("US_BATCH");
    expect(got.map((b) => b.name)).toEqual(["US_BATCH_1", "US_BATCH_2"]);
    expect(got[0]!.symbols).toEqual([...US_BATCH_1].sort());
    expect(got[1]!.symbols).toEqual([...US_BATCH_2].sort());
  });

  it("--dry-run prints the plan and writes nothing, not even the asset list or the calendar", async () => {
    const before = await everything();
    const res = await runJobs(["create", "--kind", "batch", "--universe", "--prefix", "DRY", "--from", "2024-04-01", "--to", "2024-04-06",
      "--dry-run"], env);
    expect(res.code).toBe(0);
    expect(res.stdout).toMatch(/DRY_1 .* would create/);
    expect(res.stdout).toContain("(dry run: rolled back, nothing written)");
    expect(await everything()).toEqual(before);
  });
});

describe("jobs create --universe: bad input is refused, nothing written", () => {
  const cases: Array<[string, string[], RegExp]> = [
    ["an unknown exchange", ["--prefix", "BAD", "--exchange", "NYSE,MOON"], /--exchange\[1\]: unknown exchange "MOON": one of AMEX, ARCA, BATS/],
    ["a filter that leaves nothing", ["--prefix", "BAD", "--status", "inactive", "--exchange", "BATS"],
      /--universe: no asset passes the filters \(status inactive, us_equity, tradable, exchanges BATS\) out of \d+ listed; nothing planned/],
    ["a listed symbol outside the filters", ["--prefix", "BAD", "--symbols", "AAPL,DLST,NOPE"],
      /--symbols: not in the universe .*DLST \(inactive, not tradable, NYSE\), NOPE \(not in Alpaca's asset list\)/],
    ["a class without stock bars", ["--prefix", "BAD", "--asset-class", "crypto"], /--asset-class: only us_equity/],
    ["no prefix", [], /--prefix: --universe makes baskets/],
  ];
  for (const [what, args, message] of cases) {
    it(`${what}: exit 2`, async () => {
      const before = await everything();
      const res = await create(...args);
      expect(res.stderr).toMatch(message);
      expect(res.code).toBe(2);
      expect(await everything()).toEqual(before);
    });
  }

  it("filters without --universe, and missing keys: exit 2 naming them", async () => {
    const filters = await runJobs(["create", "--kind", "batch", "--prefix", "P", "--symbols", "AAPL", "--exchange", "NYSE", ...RANGE], env);
    expect(filters.code).toBe(2);
    expect(filters.stderr).toMatch(/--exchange: filters Alpaca's asset list: only with --universe/);
    const keys = await runJobs(["create", "--kind", "batch", "--universe", "--prefix", "P", ...RANGE],
      { ...env, APCA_API_KEY_ID: undefined, APCA_API_SECRET_KEY: undefined });
    expect(keys.code).toBe(2);
    expect(keys.stderr).toMatch(/needs APCA_API_KEY_ID and APCA_API_SECRET_KEY/);
  });

  it("a wrong key: exit 1 with Alpaca's refusal, and the secret is never printed", async () => {
    const secret = "not-the-secret-0123456789";
    const before = await everything();
    const res = await runJobs(["create", "--kind", "batch", "--universe", "--prefix", "P", ...RANGE], { ...env, APCA_API_SECRET_KEY: secret });
    expect(res.code).toBe(1);
    expect(res.stderr).toMatch(/Alpaca Trading API, GET \/v2\/assets: Alpaca rejected the API key \(401\)/);
    expect(res.stdout + res.stderr).not.toContain(secret);
    expect(await everything()).toEqual(before);
  });
});
