/**
 * The coverage heatmap as inline SVG: one row per symbol (or group of
 * symbols), one column per trading day (or week, or month), a <title> on every
 * cell for hover. Past MERGE_ABOVE cells, neighbouring cells of a row with the
 * same state are drawn as one rect, whose title names the span, so a large
 * grid stays a few MB.
 */
import { type Band, buildHeatmap, type Cell, type CoverageGrid, type Heatmap } from "./coverage.ts";
import { escapeXml, formatInt } from "./format.ts";

export const MERGE_ABOVE = 30_000;
/** The most one heatmap may add to the page; past it, rows hold twice as many symbols. */
export const MAX_SVG_CHARS = 4_000_000;

const LABEL_FONT = 11;

export interface HeatmapLayout {
  cellW: number;
  cellH: number;
  labelW: number;
  headerH: number;
  merged: boolean;
}

export function layoutOf(h: Heatmap): HeatmapLayout {
  const clamp = (v: number, lo: number, hi: number) => Math.max(lo, Math.min(hi, v));
  const longest = Math.max(4, ...h.rows.map((r) => r.label.length));
  return {
    cellW: clamp(Math.floor(1000 / Math.max(1, h.columns.length)), 2, 18),
    cellH: clamp(Math.floor(1200 / Math.max(1, h.rows.length)), 2, 14),
    labelW: Math.min(200, 12 + longest * 7),
    headerH: h.columnUnit === "day" ? 44 : 56,
    merged: h.rows.length * h.columns.length > MERGE_ABOVE,
  };
}

function stateText(c: Cell): string {
  const bars = `${formatInt(c.stored)} of ${formatInt(c.expected)} bars`;
  const pct = c.expected > 0 ? ` (${Math.round((100 * c.stored) / c.expected)} %)` : "";
  const parts: string[] = [];
  if (c.holes) parts.push(`${formatInt(c.holes)} hole${c.holes === 1 ? "" : "s"} (a trading day without bars)`);
  if (c.extras) parts.push(`${formatInt(c.extras)} day${c.extras === 1 ? "" : "s"} with more bars than the calendar allows`);
  if (c.pending) parts.push(`${formatInt(c.pending)} not fetched yet`);
  if (c.state === "pending") return "not fetched yet (its slice is queued or running)";
  if (c.state === "empty") return "nothing expected";
  return [`${bars}${pct}`, ...parts].join("; ");
}

function columnText(b: Band): string {
  return b.first === b.last ? b.first : `${b.first} – ${b.last}`;
}

function shortColumnLabel(b: Band, unit: Heatmap["columnUnit"]): string {
  return unit === "day" ? b.first.slice(5) : unit === "week" ? b.first.slice(2) : b.first.slice(0, 7);
}

/** The heatmap's SVG element; `data-rows` and `data-columns` say its size. */
export function heatmapSvg(h: Heatmap, timeframe: string): string {
  const L = layoutOf(h);
  const width = L.labelW + h.columns.length * L.cellW + 8;
  const height = L.headerH + h.rows.length * L.cellH + 4;
  const out: string[] = [];
  out.push(`<svg class="heatmap" xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" ` +
    `viewBox="0 0 ${width} ${height}" data-timeframe="${escapeXml(timeframe)}" data-rows="${h.rows.length}" ` +
    `data-columns="${h.columns.length}" data-unit="${h.columnUnit}" role="img" aria-label="coverage heatmap, ${escapeXml(timeframe)}">`);
  // Column axis: a tick per column (with its day on hover), a label every few columns.
  const labelEvery = Math.max(1, Math.ceil(44 / L.cellW));
  out.push(`<g class="cols" transform="translate(${L.labelW},0)">`);
  h.columns.forEach((c, i) => {
    const x = i * L.cellW;
    out.push(`<rect class="col" x="${x}" y="${L.headerH - 6}" width="${Math.max(1, L.cellW - 1)}" height="4"><title>${escapeXml(c.label === c.first ? columnText(c) : `${c.label}: ${columnText(c)}`)}</title></rect>`);
    if (i % labelEvery === 0) {
      out.push(`<text x="${x}" y="${L.headerH - 10}" transform="rotate(-35 ${x} ${L.headerH - 10})">${escapeXml(shortColumnLabel(c, h.columnUnit))}</text>`);
    }
  });
  out.push("</g>");
  const rowLabelEvery = Math.max(1, Math.ceil((LABEL_FONT - 1) / L.cellH));
  h.rows.forEach((row, r) => {
    const y = L.headerH + r * L.cellH;
    out.push(`<g class="row" data-symbol="${escapeXml(row.label)}" transform="translate(0,${y})">`);
    if (r % rowLabelEvery === 0) {
      out.push(`<text class="sym" x="${L.labelW - 6}" y="${Math.min(L.cellH, LABEL_FONT) - 1.5}">${escapeXml(row.label)}</text>`);
    }
    const cells = h.cells.slice(r * h.columns.length, (r + 1) * h.columns.length);
    for (let from = 0; from < cells.length;) {
      let to = from + 1;
      if (L.merged) while (to < cells.length && cells[to]!.state === cells[from]!.state) to++;
      const c = to - from === 1 ? cells[from]! : mergeCells(cells.slice(from, to));
      if (c.state !== "empty") {
        const [first, last] = [h.columns[from]!, h.columns[to - 1]!];
        const span = first === last ? columnText(first) : `${first.first} – ${last.last}`;
        out.push(`<rect class="c ${c.state}" x="${L.labelW + from * L.cellW}" width="${(to - from) * L.cellW - (L.cellW > 3 ? 1 : 0)}" ` +
          `height="${L.cellH > 3 ? L.cellH - 1 : L.cellH}" data-d="${first.first}${last.last === first.first ? "" : `/${last.last}`}">` +
          `<title>${escapeXml(`${row.label} · ${span}: ${stateText(c)}`)}</title></rect>`);
      }
      from = to;
    }
    out.push("</g>");
  });
  out.push("</svg>");
  return out.join("");
}

function mergeCells(cells: Cell[]): Cell {
  const sum = (k: "stored" | "expected" | "holes" | "extras" | "pending" | "tradingDays") => cells.reduce((n, c) => n + c[k], 0);
  return { state: cells[0]!.state, stored: sum("stored"), expected: sum("expected"), holes: sum("holes"), extras: sum("extras"),
    pending: sum("pending"), tradingDays: sum("tradingDays") };
}

/**
 * The heatmap and its SVG within MAX_SVG_CHARS: irregular data (many short
 * runs of different states) is drawn with more symbols per row until it fits.
 */
export function heatmapWithinBudget(grid: CoverageGrid, timeframe: string): { heatmap: Heatmap; svg: string } {
  let heatmap = buildHeatmap(grid);
  let svg = heatmapSvg(heatmap, timeframe);
  while (svg.length > MAX_SVG_CHARS && heatmap.rows.length > 1) {
    heatmap = buildHeatmap(grid, heatmap.symbolsPerRow * 2);
    svg = heatmapSvg(heatmap, timeframe);
  }
  return { heatmap, svg };
}
