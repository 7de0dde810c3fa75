/**
 * `jobs report` checked the way a person looks at it: the page opened in
 * headless Chromium after a backfill, with a hole made on purpose (one
 * symbol's bars of one day deleted), which must show in the DOM and in the
 * screenshot's pixels; and the requests the report counts must be the ones
 * the Alpaca simulator received.
 */
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "vitest";
import { STATE_COLOURS } from "../../scripts/report/render.ts";
import { openInChromium, pixelAt, rgbOf } from "./browser.ts";
import { runJobs } from "./run-cli.ts";
import type { Stack } from "./stack.ts";

export interface SeedReportExpectation {
  symbols: string[];
  /** The New York trading days of the range, in order: one heatmap column each. */
  tradingDays: string[];
  hole: { symbol: string; day: string };
  /** A day of the same symbol that keeps its bars. */
  neighbourDay: string;
}

const colourDistance = (a: number[], b: number[]) => Math.max(...a.map((v, i) => Math.abs(v - b[i]!)));

/** Makes the hole, writes the report with the CLI, opens it, and checks it. Returns the screenshot's path. */
export async function checkSeedReport(stack: Stack, want: SeedReportExpectation): Promise<string> {
  const deleted = await stack.sql`
    delete from public.bars where symbol = ${want.hole.symbol} and timeframe = '1Min'
       and (ts at time zone 'America/New_York')::date = ${want.hole.day}::date`;
  expect(deleted.count).toBeGreaterThan(0);

  const dir = await mkdtemp(join(tmpdir(), "report-test-"));
  const out = join(dir, "report.html");
  const cli = await runJobs(["report", "--all", "--out", out], { DATABASE_URL: stack.db.url });
  expect(cli.code, cli.stderr).toBe(0);
  expect(cli.stdout).toContain(`report: ${out}`);

  const opened = await openInChromium(`file://${out}`);
  try {
    const { page } = opened;
    const shot = join(dir, "report.png");
    const png = await page.screenshot({ path: shot, fullPage: true });

    const heatmap = page.locator("svg.heatmap");
    expect(await heatmap.count()).toBe(1);
    expect(await heatmap.getAttribute("data-rows")).toBe(String(want.symbols.length));
    expect(await heatmap.getAttribute("data-columns")).toBe(String(want.tradingDays.length));
    expect(await heatmap.getAttribute("data-unit")).toBe("day");
    expect(await page.locator("svg.heatmap g.row").evaluateAll((gs) => gs.map((g) => g.getAttribute("data-symbol"))))
      .toEqual([...want.symbols].sort());
    expect(await page.locator("svg.heatmap rect.col title").allTextContents()).toEqual(want.tradingDays);
    expect(await page.locator("svg.heatmap rect.c").count()).toBe(want.symbols.length * want.tradingDays.length);

    // Exactly one hole: the symbol and day whose bars were deleted, named on hover.
    expect(await page.locator("svg.heatmap rect.c.hole").count()).toBe(1);
    const row = page.locator(`svg.heatmap g.row[data-symbol="${want.hole.symbol}"]`);
    const hole = row.locator("rect.c.hole");
    expect(await hole.getAttribute("data-d")).toBe(want.hole.day);
    expect(await hole.locator("title").textContent()).toMatch(new RegExp(`^${want.hole.symbol} · ${want.hole.day}: 0 of \\d+ bars`));

    // In the picture: the hole's pixels have the hole's colour; its neighbour's have their own.
    const centre = async (el: typeof hole) => {
      const box = (await el.boundingBox())!;
      return pixelAt(png, box.x + box.width / 2, box.y + box.height / 2);
    };
    const holePixel = await centre(hole);
    expect(colourDistance(holePixel, rgbOf(STATE_COLOURS.hole)), `hole pixel ${holePixel}`).toBeLessThanOrEqual(8);
    const neighbour = row.locator(`rect.c[data-d="${want.neighbourDay}"]`);
    const neighbourState = (await neighbour.getAttribute("class"))!.split(" ")[1] as keyof typeof STATE_COLOURS;
    expect(neighbourState).toMatch(/^q[1-4]$/);
    const neighbourPixel = await centre(neighbour);
    expect(colourDistance(neighbourPixel, rgbOf(STATE_COLOURS[neighbourState]))).toBeLessThanOrEqual(8);
    expect(colourDistance(neighbourPixel, rgbOf(STATE_COLOURS.hole))).toBeGreaterThan(60);

    // What the run spent: the requests recorded in the database are the ones the simulator received.
    const sim = stack.sim.stats();
    const figures = Object.fromEntries(await page.locator(".fig").evaluateAll((els) =>
      els.map((e) => [e.querySelector("span")!.textContent, e.querySelector("b")!.textContent])));
    expect(figures["Alpaca requests"]).toBe(sim.requests.toLocaleString("en-US"));
    expect(figures["429s from Alpaca"]).toBe(sim.rateLimited.toLocaleString("en-US"));
    expect(await page.locator("svg.rate rect.req").count()).toBeGreaterThan(0);
    expect(await page.locator("svg.rate line.budget").count()).toBe(1);

    expect(opened.errors).toEqual([]);
    return shot;
  } finally {
    await opened.close();
  }
}
