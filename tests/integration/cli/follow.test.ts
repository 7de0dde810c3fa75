/** `jobs create --follow`, `jobs catch-up`, `jobs extend` and the follow columns of `jobs status`, as operators run them. */
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

const FOLLOW = ["create", "--kind", "batch", "--name", "LIVE", "--symbols", "AAPL,MSFT", "--from", "2024-11-25", "--follow"];

async function state() {
  const defs = await db.sql`select id, range_start, range_end, caught_up_until from public.job_definitions order by id`;
  return { counts: await tableCounts(db.sql), defs: [...defs] };
}

describe("jobs create --follow and catch-up", () => {
  it("plans through the last completed session, finds the same definition on a rerun, and catches up once per day", async () => {
    const created = await runJobs([...FOLLOW, "--until", "2024-11-27T23:00:00-05:00", "--json"], env);
    expect(created.stderr).toBe("");
    expect(created.code).toBe(0);
    const [def] = JSON.parse(created.stdout).definitions;
    expect(def).toMatchObject({ name: "LIVE", state: "created", rangeEnd: "2024-11-28T05:00:00.000Z" });

    const again = await runJobs([...FOLLOW, "--until", "2024-11-29T23:00:00-05:00"], env);
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/LIVE .* yes +\d+ +existed$/m);

    const caught = await runJobs(["catch-up", "--until", "2024-11-29T23:00:00-05:00"], env);
    expect(caught.code).toBe(0);
    expect(caught.stdout).toMatch(new RegExp(`^ *${def.id} +2024-11-28 05:00:00Z +2024-11-30 05:00:00Z +[1-9]\\d* *$`, "m"));
    const before = await state();
    const twice = await runJobs(["catch-up", "--until", "2024-11-29T23:00:00-05:00"], env);
    expect(twice.stdout).toMatch(/up to date/);
    expect(twice.stdout).toContain("1 followed definition(s), 0 slice(s) planned");
    expect((await state()).counts).toEqual(before.counts);

    const status = await runJobs(["status"], env);
    expect(status.stdout).toMatch(/LIVE .* through 2024-11-29, \d+ behind$/m);
    const follow = await runJobs(["status", "--follow", "--json"], env);
    expect(JSON.parse(follow.stdout)).toEqual([expect.objectContaining({
      symbol: "LIVE", covered_through_day: "2024-11-29", caught_up_until: "2024-11-30T04:00:00.000Z",
    })]);
  });

  it("refuses --follow with --to, --until without --follow, and an until before what is covered: exit 2, nothing written", async () => {
    const before = await state();
    const withTo = await runJobs([...FOLLOW, "--to", "2024-12-01"], env);
    expect(withTo.code).toBe(2);
    expect(withTo.stderr).toContain("--to: not with --follow: a followed definition has no end");
    const untilAlone = await runJobs(["create", "--kind", "single", "--symbol", "KO", "--from", "2024-11-25", "--to", "2024-11-27",
      "--until", "2024-11-29"], env);
    expect(untilAlone.code).toBe(2);
    expect(untilAlone.stderr).toContain("--until: only with --follow");
    const back = await runJobs(["catch-up", "--until", "2024-11-26"], env);
    expect(back.code).toBe(2);
    expect(back.stderr).toMatch(/error: refused: until .* is before the sessions definition \d+ already covers/);
    const notYet = await runJobs(["create", "--kind", "single", "--symbol", "KO", "--from", "2024-11-25", "--follow",
      "--until", "2024-11-25T12:00:00-05:00"], env);
    expect(notYet.code).toBe(2);
    expect(notYet.stderr).toContain("nothing to follow yet");
    expect(await state()).toEqual(before);
  });
});

describe("jobs extend", () => {
  it("grows a range and plans only the new part; --dry-run writes nothing", async () => {
    const made = await runJobs(["create", "--kind", "single", "--symbol", "NVDA", "--from", "2024-03-04", "--to", "2024-03-09", "--json"], env);
    const { id, slices } = JSON.parse(made.stdout).definitions[0];
    const before = await state();
    const dry = await runJobs(["extend", "--id", id, "--to", "2024-04-01", "--dry-run"], env);
    expect(dry.code).toBe(0);
    expect(dry.stdout).toMatch(/dry run: rolled back, nothing written/);
    expect(await state()).toEqual(before);

    const res = await runJobs(["extend", "--id", id, "--from", "2024-02-26", "--to", "2024-04-01", "--json"], env);
    expect(res.code).toBe(0);
    const out = JSON.parse(res.stdout);
    expect(out).toMatchObject({ id, after: { from: "2024-02-26T05:00:00.000Z", to: "2024-04-01T04:00:00.000Z" } });
    const [{ runs }] = await db.sql`select count(*)::int as runs from public.job_runs where job_def_id = ${id}`;
    expect(runs).toBe(slices + out.slicesAdded);
  });

  it("refuses shrinking and overlaps with exit 2, no range with exit 2, an unknown id with exit 1, writing nothing", async () => {
    const a = JSON.parse((await runJobs(["create", "--kind", "single", "--symbol", "AMD", "--from", "2024-03-04", "--to", "2024-03-09", "--json"], env)).stdout).definitions[0].id;
    await runJobs(["create", "--kind", "single", "--symbol", "AMD", "--from", "2024-03-18", "--to", "2024-03-23"], env);
    const before = await state();
    const shrink = await runJobs(["extend", "--id", a, "--to", "2024-03-08"], env);
    expect([shrink.code, shrink.stderr]).toEqual([2, expect.stringMatching(/refused: the new end .* is before definition \d+'s end/)]);
    const overlap = await runJobs(["extend", "--id", a, "--to", "2024-03-20"], env);
    expect([overlap.code, overlap.stderr]).toEqual([2, expect.stringMatching(/refused: definition \d+ already covers part of .* fetch those bars twice/)]);
    const nothing = await runJobs(["extend", "--id", a], env);
    expect([nothing.code, nothing.stderr]).toEqual([2, expect.stringContaining("--from: give --from, --to or both")]);
    const missing = await runJobs(["extend", "--id", "99999", "--to", "2025-01-01"], env);
    expect([missing.code, missing.stderr]).toEqual([1, expect.stringContaining("no definition with --id 99999")]);
    expect(await state()).toEqual(before);
  });
});
