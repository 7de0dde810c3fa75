import { writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDb, type TestDb } from "../../helpers/db.ts";
import { runJobs, tableCounts } from "../../helpers/run-cli.ts";

let db: TestDb;
let env: Record<string, string>;
beforeAll(async () => {
  db = await createTestDb();
  env = { DATABASE_URL: db.url };
});
afterAll(async () => {
  await db.drop();
});

const RANGE = ["--from", "2024-03-04", "--to", "2024-03-09"];

async function definition(name: string) {
  const [def] = await db.sql<{ id: string; kind: string; symbols_array: string[] | null; range_start: Date; range_end: Date; runs: number }[]>`
    select d.id::text, d.kind, d.symbols_array, d.range_start, d.range_end,
           (select count(*)::int from public.job_runs r where r.job_def_id = d.id) as runs
      from public.job_definitions d where d.symbol = ${name}`;
  return def;
}

describe("jobs create", () => {
  it("creates a single-symbol definition; YYYY-MM-DD is New York midnight and the end is exclusive", async () => {
    const res = await runJobs(["create", "--kind", "single", "--symbol", "BRK.B", ...RANGE], env);
    expect(res.stderr).toBe("");
    expect(res.code).toBe(0);
    const def = (await definition("BRK.B"))!;
    expect(def).toMatchObject({ kind: "single", symbols_array: null });
    expect(def.range_start.toISOString()).toBe("2024-03-04T05:00:00.000Z");
    expect(def.range_end.toISOString()).toBe("2024-03-09T05:00:00.000Z");
    expect(res.stdout).toMatch(new RegExp(`^\\s*${def.id}\\s+single\\s+BRK\\.B\\s+1\\s+1Min.*\\s${def.runs}\\s+created$`, "m"));
    expect(res.stdout).toContain(`1 definition(s), ${def.runs} slice(s)`);
  });

  it("creates a named batch, and a batch of one symbol is still a batch", async () => {
    const res = await runJobs(["create", "--kind", "batch", "--name", "US_BATCH_2", "--symbols", "TMUS,TSLA,UNH", ...RANGE, "--json"], env);
    expect(res.code).toBe(0);
    const out = JSON.parse(res.stdout);
    const def = (await definition("US_BATCH_2"))!;
    expect(def).toMatchObject({ kind: "batch", symbols_array: ["TMUS", "TSLA", "UNH"] });
    expect(out.definitions).toEqual([expect.objectContaining({ id: def.id, kind: "batch", slices: def.runs, state: "created" })]);

    const one = await runJobs(["create", "--kind", "batch", "--name", "ONLY_KO", "--symbols", "KO", ...RANGE], env);
    expect(one.code).toBe(0);
    expect(await definition("ONLY_KO")).toMatchObject({ kind: "batch", symbols_array: ["KO"] });
  });

  it("splits a long list from a file into baskets PREFIX_1..k of at most --basket-size, and is idempotent", async () => {
    const file = join(tmpdir(), `symbols-${process.pid}.txt`);
    await writeFile(file, "# tech\nAAPL, MSFT\nNVDA   # chips\n\nAMZN,GOOGL,GOOG\nMETA\n");
    const args = ["create", "--kind", "batch", "--prefix", "TECH", "--basket-size", "3", "--symbols-file", file, ...RANGE, "--json"];
    const res = await runJobs(args, env);
    expect(res.code).toBe(0);
    const names = JSON.parse(res.stdout).definitions.map((d: { name: string; symbols: string[] }) => [d.name, d.symbols]);
    expect(names).toEqual([["TECH_1", ["AAPL", "MSFT", "NVDA"]], ["TECH_2", ["AMZN", "GOOGL", "GOOG"]], ["TECH_3", ["META"]]]);
    expect((await definition("TECH_3"))!.symbols_array).toEqual(["META"]);

    const before = await tableCounts(db.sql);
    const again = await runJobs(args, env);
    expect(again.code).toBe(0);
    expect(JSON.parse(again.stdout).definitions.map((d: { state: string }) => d.state)).toEqual(["existed", "existed", "existed"]);
    expect(await tableCounts(db.sql)).toEqual(before);

    // Another slice size for an existing definition adds no (overlapping) slices.
    const resized = await runJobs([...args.slice(0, -1), "--target-bars", "5000"], env);
    expect(resized.code).toBe(0);
    expect(await tableCounts(db.sql)).toEqual(before);
  });

  it("refuses a basket name as a single's symbol before touching the database", async () => {
    const before = await tableCounts(db.sql);
    const res = await runJobs(["create", "--kind", "single", "--symbol", "US_BATCH_1", ...RANGE], env);
    expect(res.code).toBe(2);
    expect(res.stderr).toContain("--symbol");
    expect(res.stderr).toContain("single_symbol_is_a_ticker");
    expect(res.stdout).toBe("");
    expect(await tableCounts(db.sql)).toEqual(before);
    expect(await definition("US_BATCH_1")).toBeUndefined();
  });

  it("shows a Postgres refusal by its rule and writes none of the baskets (one transaction)", async () => {
    await db.sql`select public.plan_backfill('batch', 'MIX_2', '["KO","PEP"]'::jsonb, '1Min', '2024-03-04T05:00Z', '2024-03-09T05:00Z')`;
    const before = await tableCounts(db.sql);
    // MIX_1 is new; MIX_2 exists with other symbols, which plan_backfill refuses.
    const res = await runJobs(["create", "--kind", "batch", "--prefix", "MIX", "--basket-size", "2", "--symbols", "XOM,CVX,V,MA", ...RANGE], env);
    expect(res.code).toBe(1);
    expect(res.stderr).toMatch(/Postgres refused it: .*MIX_2.*already exists with different symbols/);
    expect(await tableCounts(db.sql)).toEqual(before);
    expect(await definition("MIX_1")).toBeUndefined();
  });

  it("--dry-run plans inside a rolled-back transaction", async () => {
    const before = await tableCounts(db.sql);
    const res = await runJobs(["create", "--kind", "single", "--symbol", "IBM", ...RANGE, "--dry-run"], env);
    expect(res.code).toBe(0);
    expect(res.stdout).toMatch(/IBM .* would create/);
    expect(res.stdout).toContain("dry run: rolled back, nothing written");
    expect(await tableCounts(db.sql)).toEqual(before);
  });
});

describe("jobs usage errors", () => {
  it.concurrent("exits 2 naming --kind when it is missing (kind is never inferred)", async () => {
    const res = await runJobs(["create", "--symbols", "AAPL,MSFT", "--name", "B", ...RANGE], env);
    expect(res.code).toBe(2);
    expect(res.stderr).toContain("--kind");
  });

  it.concurrent("names every bad flag at once", async () => {
    const res = await runJobs(["create", "--kind", "batch", "--name", "B", "--symbols", "AAPL,aapl,AAPL", "--from", "2024-03-09",
      "--to", "2024-03-04", "--timeframe", "1T", "--priority", "soon"], env);
    expect(res.code).toBe(2);
    for (const text of ["--symbols[1]", "--to: must be after --from", "--timeframe", "--priority"]) expect(res.stderr).toContain(text);
  });

  it.concurrent("lists what is missing when no database is configured", async () => {
    const res = await runJobs(["status"], { DATABASE_URL: undefined });
    expect(res.code).toBe(2);
    expect(res.stderr).toContain("--db-url");
    expect(res.stderr).toContain("DATABASE_URL");
  });

  it.concurrent("never prints the database password", async () => {
    const res = await runJobs(["status", "--db-url", "postgres://ops:hunter2secret@127.0.0.1:1/bars"], {});
    expect(res.code).toBe(1);
    expect(res.stderr).toMatch(/error: .*ECONNREFUSED/);
    expect(`${res.stdout}${res.stderr}`).not.toContain("hunter2secret");
  });
});
