/**
 * The report's heatmap model and drawing, without a database: cell states
 * against the calendar's expectation, aggregation to weeks and symbol groups
 * past the limits, and one rect per cell (or per run of equal cells) in the SVG.
 */
import { describe, expect, it } from "vitest";
import { buildHeatmap, type CoverageGrid, emptyGrid, MAX_COLUMNS, MAX_ROWS } from "../../scripts/report/coverage.ts";
import { causeOf } from "../../scripts/report/data.ts";
import { heatmapSvg, MERGE_ABOVE } from "../../scripts/report/heatmap-svg.ts";
import { formatDay, isTradingDay, parseDay } from "../../scripts/lib/market-calendar/index.ts";

function tradingDays(from: string, count: number): string[] {
  const days: string[] = [];
  for (let n = parseDay(from)!; days.length < count; n++) if (isTradingDay(formatDay(n))) days.push(formatDay(n));
  return days;
}

/** Every symbol-day expects 960 bars and has `stored` of them. */
function fullGrid(symbols: number, days: string[], stored = 900): CoverageGrid {
  const grid = emptyGrid(Array.from({ length: symbols }, (_, i) => `S${String(i).padStart(5, "0")}`), days);
  grid.expected.fill(960);
  grid.stored.fill(stored);
  return grid;
}

describe("heatmap cells", () => {
  it("marks a hole, extra bars, work not fetched yet, and shades the rest by the calendar's share", () => {
    const days = tradingDays("2024-03-04", 6);
    const grid = fullGrid(1, days);
    grid.stored[1] = 0; // a hole
    grid.stored[2] = 961; // more than the calendar allows
    grid.stored[3] = 0;
    grid.pending[3] = 1; // not fetched yet, not a hole
    grid.stored[4] = 300; // under a half
    grid.stored[5] = 100; // under a quarter
    const h = buildHeatmap(grid);
    expect(h.columnUnit).toBe("day");
    expect(h.cells.map((c) => c.state)).toEqual(["q4", "hole", "extra", "pending", "q2", "q1"]);
    expect(h.totals).toMatchObject({ holes: 1, extras: 1, pending: 1, stored: 900 + 961 + 300 + 100 });
  });

  it("folds days into weeks past MAX_COLUMNS and symbols into groups past MAX_ROWS, keeping a hole visible", () => {
    const days = tradingDays("2023-01-03", MAX_COLUMNS + 40);
    const grid = fullGrid(MAX_ROWS + 500, days);
    const hole = 777 * days.length + 123;
    grid.stored[hole] = 0;
    const h = buildHeatmap(grid);
    expect(h.columnUnit).toBe("week");
    expect(h.columns.length).toBeLessThanOrEqual(MAX_COLUMNS);
    expect(h.symbolsPerRow).toBe(2);
    expect(h.rows).toHaveLength(Math.ceil((MAX_ROWS + 500) / 2));
    const holes = h.cells.map((c, i) => [c.state, i] as const).filter(([s]) => s === "hole");
    expect(holes).toHaveLength(1);
    const [, at] = holes[0]!;
    expect(h.rows[Math.floor(at / h.columns.length)]!.label).toBe("S00776…S00777 (2)");
    const column = h.columns[at % h.columns.length]!;
    expect(days[123]! >= column.first && days[123]! <= column.last).toBe(true);
  });
});

describe("heatmap SVG", () => {
  it("draws one row per symbol and one rect per cell, with symbol and day in each title", () => {
    const days = tradingDays("2024-03-04", 5);
    const grid = fullGrid(3, days);
    grid.stored[1 * 5 + 2] = 0;
    const svg = heatmapSvg(buildHeatmap(grid), "1Min");
    expect(svg).toContain('data-rows="3" data-columns="5"');
    expect(svg.match(/<g class="row"/g)).toHaveLength(3);
    expect(svg.match(/<rect class="col"/g)).toHaveLength(5);
    expect(svg.match(/<rect class="c /g)).toHaveLength(15);
    expect(svg).toContain(`<rect class="c hole"`);
    expect(svg).toContain(`<title>S00001 · ${days[2]}: 0 of 960 bars (0 %); 1 hole (a trading day without bars)</title>`);
  });

  it("joins equal neighbours of a row into one rect past MERGE_ABOVE cells, and says their span", () => {
    const days = tradingDays("2024-01-02", 200);
    const grid = fullGrid(Math.ceil(MERGE_ABOVE / 200) + 1, days);
    grid.stored[50] = 0;
    const svg = heatmapSvg(buildHeatmap(grid), "1Min");
    const rows = grid.symbols.length;
    // Row 0: before the hole, the hole, after it; every other row: one rect.
    expect(svg.match(/<rect class="c /g)).toHaveLength(rows - 1 + 3);
    expect(svg).toContain(`S00000 · ${days[0]} – ${days[49]}: `);
  });
});

describe("error causes", () => {
  it("groups messages that differ only in numbers, times and quoted values", () => {
    const a = causeOf('Alpaca 503 after 3012 ms for "AAPL" at 2024-03-04T14:30:00Z');
    const b = causeOf('Alpaca 503 after 12 ms for "MSFT" at 2024-03-05T15:00:00.000Z');
    expect(a).toBe(b);
    expect(causeOf("lease expired")).not.toBe(a);
  });
});
