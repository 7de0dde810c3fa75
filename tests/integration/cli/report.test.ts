/**
 * `jobs report` on small databases: flags refused before any I/O, an empty
 * database that gives a page saying there is nothing yet (checked in headless
 * Chromium), and a definition over Thanksgiving week whose columns and
 * expectations are the calendar's (the same numbers `jobs gaps` uses), with
 * bars on a Sunday marked as extra. The seed scenario's report, with a hole
 * in the picture, is checked in tests/e2e/pipeline/seed-scenario.test.ts.
 */
import { access, mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { expectedBars } from "../../../scripts/alpaca-sim/ground-truth.ts";
import { openInChromium } from "../../helpers/browser.ts";
import { createTestDb, type TestDb } from "../../helpers/db.ts";
import { runJobs } from "../../helpers/run-cli.ts";

let dir: string;
let empty: TestDb;
let filled: TestDb;
let defId = "";
// Thanksgiving week 2024: Thu 11-28 closed, Fri 11-29 a half day, then a weekend.
const RANGE = { start: "2024-11-25T05:00:00Z", end: "2024-12-03T05:00:00Z" };
const exists = (path: string) => access(path).then(() => true, () => false);

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "report-cli-"));
  [empty, filled] = await Promise.all([createTestDb(), createTestDb()]);
  [{ id: defId }] = await filled.sql<{ id: string }[]>`
    select public.plan_backfill('batch', 'PAIR', '["KO","PEP"]'::jsonb, '1Min', ${RANGE.start}, ${RANGE.end})::text as id`;
  await filled.sql`update public.job_runs set status = 'success'`;
  const rows = [...expectedBars({ symbols: ["KO", "PEP"], timeframe: "1Min", start: RANGE.start, end: "2024-12-03T04:59:59Z" })]
    .map((b) => ({ symbol: b.symbol, timeframe: "1Min", ts: b.t, open: b.o, high: b.h, low: b.l, close: b.c, volume: b.v, trade_count: b.n, vwap: b.vw }));
  for (let i = 0; i < rows.length; i += 2000) await filled.sql`insert into public.bars ${filled.sql(rows.slice(i, i + 2000))}`;
  // A bar on Sunday 12-01, when the market is closed.
  await filled.sql`insert into public.bars values ('KO', '1Min', '2024-12-01T15:00:00Z', 1, 1, 1, 1, 1, 1, 1)`;
});
afterAll(async () => {
  await Promise.all([empty?.drop(), filled?.drop(), dir && rm(dir, { recursive: true, force: true })]);
});

describe("jobs report", () => {
  it("refuses bad flags with exit 2 before any I/O, and an unknown --id with exit 1", async () => {
    const out = join(dir, "refused.html");
    for (const args of [[], ["--id", "1", "--all"], ["--id", "x"]]) {
      const res = await runJobs(["report", ...args, "--out", out], { DATABASE_URL: "postgres://nobody@127.0.0.1:1/none" });
      expect(res.code, res.stderr).toBe(2);
      expect(res.stderr).toMatch(/^error: (give exactly one of --id <definition> or --all|--id: "x" is not a whole number)/);
    }
    const unknown = await runJobs(["report", "--id", "999", "--out", out], { DATABASE_URL: empty.url });
    expect(unknown).toMatchObject({ code: 1, stderr: expect.stringContaining("no definition with --id 999") });
    expect(await exists(out)).toBe(false);
  });

  it("says there is nothing yet for an empty database, and the page loads cleanly", async () => {
    const out = join(dir, "empty.html");
    const res = await runJobs(["report", "--all", "--out", out], { DATABASE_URL: empty.url });
    expect(res.code, res.stderr).toBe(0);
    expect(res.stdout).toContain(`report: ${out}`);
    const opened = await openInChromium(`file://${out}`);
    try {
      expect(await opened.page.locator("#nothing-yet").textContent()).toMatch(/^Nothing yet: this database has no job definitions/);
      expect(await opened.page.locator("svg").count()).toBe(0);
      expect(opened.errors).toEqual([]);
    } finally {
      await opened.close();
    }
  });

  it("has a column per trading day and per day with bars, against the calendar's most", async () => {
    const out = join(dir, "pair.html");
    const res = await runJobs(["report", "--id", defId, "--out", out], { DATABASE_URL: filled.url });
    expect(res.code, res.stderr).toBe(0);
    const html = await readFile(out, "utf8");
    expect(html).not.toMatch(/<script|<link|src=|href=/i);
    expect(html).toContain('data-rows="2" data-columns="6"');
    const days = [...html.matchAll(/<rect class="col"[^>]*><title>([^<]+)<\/title>/g)].map((m) => m[1]);
    // Thanksgiving (11-28) and Saturday are absent, Sunday 12-01 is there because KO has a bar on it; the range ends 12-03 00:00 New York.
    expect(days).toEqual(["2024-11-25", "2024-11-26", "2024-11-27", "2024-11-29", "2024-12-01", "2024-12-02"]);
    const title = (symbol: string, day: string) =>
      html.match(new RegExp(`<rect class="c (\\w+)"[^>]*data-d="${day}"><title>${symbol} · ${day}: ([^<]+)</title>`))?.slice(1);
    // The calendar's most, as in `jobs gaps`: 960 on a full day, 780 on the half day.
    expect(title("KO", "2024-11-26")![1]).toMatch(/ of 960 bars/);
    expect(title("KO", "2024-11-29")![1]).toMatch(/ of 780 bars/);
    expect(title("KO", "2024-12-01")).toEqual(["extra", "1 of 0 bars; 1 day with more bars than the calendar allows"]);
    expect(title("PEP", "2024-12-01")).toBeUndefined();
    expect(html.match(/<rect class="c hole"/g)).toBeNull();
  });

  it("says how current a followed definition is, and that a fixed range is fixed", async () => {
    const [{ followed }] = await filled.sql<{ followed: string }[]>`
      select public.plan_followed_backfill('single', 'PEP', null, '1Min', '2024-12-03T05:00:00Z',
               p_until => '2024-12-05T23:00:00-05:00')::text as followed`;
    const out = join(dir, "followed.html");
    const res = await runJobs(["report", "--all", "--out", out], { DATABASE_URL: filled.url });
    expect(res.code, res.stderr).toBe(0);
    const html = await readFile(out, "utf8");
    const row = (id: string) => html.match(new RegExp(`<tr><td class="n">${id}</td>((?:(?!</tr>).)*)</tr>`))?.[1];
    expect(row(followed)).toMatch(/<td class="nw">followed: through 2024-12-05, \d+ session\(s\) behind<\/td>$/);
    expect(row(defId)).toMatch(/<td class="nw">fixed range<\/td>$/);
  });
});
