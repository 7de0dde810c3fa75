/**
 * `npx tsx bench/report-render.ts [symbols] [days] [--noisy]`: how long the report takes
 * to draw a large coverage grid (default 8,000 symbols × 250 trading days),
 * how big the page is, and how long headless Chromium (/usr/bin/chromium, or
 * CHROMIUM_PATH) takes to load and paint it. The data are generated here:
 * mostly complete days with a realistic share of the calendar, a few symbols
 * listed part-way, scattered holes, some extra bars and unfinished slices,
 * so the figures cover the database-free half of `jobs report`. --noisy gives
 * every symbol-day a random share instead: the worst case for the page's size.
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium } from "playwright-core";
import { formatDay, isTradingDay, parseDay } from "../scripts/lib/market-calendar/index.ts";
import { emptyGrid } from "../scripts/report/coverage.ts";
import type { DefinitionSummary, ReportData } from "../scripts/report/data.ts";
import { renderReport } from "../scripts/report/render.ts";

const args = process.argv.slice(2).filter((a) => a !== "--noisy");
const noisy = process.argv.includes("--noisy");
const [symbolCount, dayCount] = [Number(args[0] ?? 8000), Number(args[1] ?? 250)];

function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
}

function syntheticData(): ReportData {
  const rand = random(16);
  const days: string[] = [];
  for (let n = parseDay("2024-01-02")!; days.length < dayCount; n++) if (isTradingDay(formatDay(n))) days.push(formatDay(n));
  const symbols = Array.from({ length: symbolCount }, (_, i) => `S${i.toString(36).toUpperCase().padStart(4, "A")}`).sort();
  const grid = emptyGrid(symbols, days);
  for (let s = 0; s < symbols.length; s++) {
    const listedFrom = rand() < 0.03 ? Math.floor(rand() * days.length) : 0;
    const share = 0.55 + rand() * 0.45;
    for (let d = 0; d < days.length; d++) {
      const i = s * days.length + d;
      grid.expected[i] = 960;
      const r = rand();
      grid.stored[i] = d < listedFrom || r < 0.002 ? 0 : r > 0.9995 ? 961 : Math.round(960 * (noisy ? rand() : share));
      if (d >= days.length - 5 && s % 7 === 0) grid.pending[i] = 1;
    }
  }
  const definitions: DefinitionSummary[] = [];
  for (let b = 0; b * 50 < symbols.length; b++) {
    definitions.push({
      id: b + 1, kind: "batch", name: `UNIVERSE_${b + 1}`, symbols: symbols.slice(b * 50, b * 50 + 50), timeframe: "1Min",
      rangeStart: new Date("2024-01-02T05:00:00Z"), rangeEnd: new Date("2024-12-31T05:00:00Z"),
      done: 120, failed: 0, running: 0, queued: 2, cancelled: 0, total: 122, bars: 11_000_000, pages: 1100,
      firstStartedAt: new Date("2024-12-01T00:00:00Z"), lastActivityAt: new Date("2024-12-09T00:00:00Z"),
      coveredFrom: days[0]!, coveredTo: days[days.length - 1]!, current: null,
    });
  }
  const minutes = Array.from({ length: 8 * 24 * 60 }, (_, m) => ({
    minute: new Date(Date.parse("2024-12-01T00:00:00Z") + m * 60_000), requests: 180 + Math.floor(rand() * 20),
    rateLimited: rand() < 0.001 ? 1 : 0, perMinute: 200,
  }));
  return {
    generatedAt: new Date(), scope: "all definitions", definitions, coverage: [{ timeframe: "1Min", grid }],
    spend: { window: { from: minutes[0]!.minute, to: minutes[minutes.length - 1]!.minute }, minutes, requests: 2_000_000,
      rateLimited: 11, deferred: 2, retries: 40, leaseExpired: 1, handBacks: 900, pages: 176_000, bars: 1_760_000_000 },
    errors: [{ kind: "retryable", cause: "Alpaca # after # ms", count: 40, runs: 31, lastAt: new Date(), example: "Alpaca 503 after 30000 ms" }],
  };
}

const data = syntheticData();
let started = performance.now();
const html = renderReport(data);
const renderMs = performance.now() - started;
const dir = await mkdtemp(join(tmpdir(), "report-bench-"));
const file = join(dir, "report.html");
await writeFile(file, html);
const browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium", args: ["--no-sandbox"] });
try {
  const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
  started = performance.now();
  await page.goto(`file://${file}`, { waitUntil: "load" });
  await page.screenshot({ path: join(dir, "top.png") });
  const browserMs = performance.now() - started;
  const rows = await page.locator("svg.heatmap").getAttribute("data-rows");
  const columns = await page.locator("svg.heatmap").getAttribute("data-columns");
  console.log(JSON.stringify({
    symbols: symbolCount, days: dayCount, noisy, heatmap: `${rows} rows × ${columns} columns`,
    html_bytes: Buffer.byteLength(html), html_mb: Math.round(Buffer.byteLength(html) / 1e5) / 10,
    render_ms: Math.round(renderMs), chromium_load_and_paint_ms: Math.round(browserMs),
  }, null, 2));
} finally {
  await browser.close();
  if (process.env.KEEP_REPORT) console.log(`kept: ${dir}`);
  else await rm(dir, { recursive: true, force: true });
}
