/**
 * The report as one self-contained HTML page: inline CSS and SVG, no script,
 * nothing fetched. Hover text comes from SVG <title> elements.
 */
import { type CellState, type Heatmap, MAX_COLUMNS, MAX_ROWS } from "./coverage.ts";
import type { DefinitionSummary, ErrorGroup, ReportData, Spend } from "./data.ts";
import { escapeXml as esc, formatBound, formatDuration, formatInt, formatTime } from "./format.ts";
import { heatmapWithinBudget, layoutOf } from "./heatmap-svg.ts";
import { rateChartSvg } from "./rate-chart.ts";

const LEGEND: Array<[CellState, string]> = [
  ["q4", "≥ 75 % of the calendar's most"],
  ["q3", "50–75 %"],
  ["q2", "25–50 %"],
  ["q1", "< 25 %"],
  ["hole", "hole: a trading day without bars (and none on the way)"],
  ["extra", "extra: more bars than the calendar allows"],
  ["pending", "not fetched yet (slice queued or running)"],
];

/** Each cell state's colour (the legend's and the heatmap's). */
export const STATE_COLOURS: Record<Exclude<CellState, "empty">, string> = {
  q4: "#216e39",
  q3: "#30a14e",
  q2: "#7bc96f",
  q1: "#e3c84a",
  hole: "#d1242f",
  extra: "#8250df",
  pending: "#d0d7de",
};

const CSS = `
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1f2328;margin:24px;max-width:1400px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 8px;border-bottom:1px solid #d0d7de;padding-bottom:4px}
h3{font-size:15px;margin:16px 0 6px}.sub{color:#59636e;margin:0 0 12px}
.figures{display:flex;flex-wrap:wrap;gap:10px;margin:8px 0 12px}
.fig{border:1px solid #d0d7de;border-radius:6px;padding:6px 12px;min-width:110px}
.fig b{display:block;font-size:20px}.fig span{color:#59636e;font-size:12px}
table{border-collapse:collapse;font-size:13px}th,td{padding:4px 10px;border-bottom:1px solid #eaeef2;text-align:left;vertical-align:top}
th{background:#f6f8fa;font-weight:600}td.n{text-align:right;font-variant-numeric:tabular-nums}.nw{white-space:nowrap}
.note{color:#59636e;font-size:12.5px;margin:4px 0}.empty{padding:16px;background:#f6f8fa;border-radius:6px}
.legend{display:flex;flex-wrap:wrap;gap:14px;font-size:12.5px;margin:6px 0 10px}
.legend i{display:inline-block;width:12px;height:12px;border-radius:2px;margin-right:5px;vertical-align:-2px}
.scroll{overflow:auto;max-height:1400px;border:1px solid #eaeef2;border-radius:6px;padding:6px;display:inline-block;max-width:100%}
svg text{font:11px system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;fill:#424a53}
svg text.sym{text-anchor:end}svg .col{fill:#afb8c1}
${Object.entries(STATE_COLOURS).map(([state, colour]) => `.${state}{fill:${colour};background:${colour}}`).join("")}
svg rect.c:hover{stroke:#1f2328;stroke-width:1}
svg.rate .req{fill:#0969da}svg.rate .r429{fill:#d1242f}svg.rate .grid{stroke:#eaeef2}
svg.rate .budget{stroke:#bc4c00;stroke-dasharray:5 4;stroke-width:1.5}svg.rate .budget-label{fill:#bc4c00}
code{background:#f6f8fa;padding:1px 4px;border-radius:4px}
`;

const fig = (value: string, label: string, cls = "") => `<div class="fig ${cls}"><b>${esc(value)}</b><span>${esc(label)}</span></div>`;

function legend(): string {
  return `<div class="legend">${LEGEND.map(([s, t]) => `<span><i class="${s}"></i>${esc(t)}</span>`).join("")}</div>`;
}

function aggregationNote(h: Heatmap, symbols: number, days: number): string {
  const notes: string[] = [];
  if (h.columnUnit !== "day") {
    notes.push(`${formatInt(days)} days are more than ${MAX_COLUMNS} columns, so each column is a ${h.columnUnit}.`);
  }
  if (h.symbolsPerRow > 1) {
    notes.push(`${formatInt(symbols)} symbols are too many for one row each (at most ${formatInt(MAX_ROWS)} rows, and a page of ` +
      `a few MB), so each row is ${h.symbolsPerRow} neighbouring symbols (alphabetical).`);
  }
  if (notes.length) notes.push("A cell shows its worst day: a hole if any symbol-day in it is one, then extra bars.");
  if (layoutOf(h).merged) notes.push("Neighbouring cells of a row with the same colour are drawn as one; hovering shows their span.");
  return notes.length ? `<p class="note">Aggregated: ${esc(notes.join(" "))}</p>` : "";
}

function coverageSection(data: ReportData): string {
  if (data.coverage.length === 0) return `<p class="empty">No symbols to show yet.</p>`;
  return data.coverage.map(({ timeframe, grid }) => {
    const { heatmap: h, svg } = heatmapWithinBudget(grid, timeframe);
    const t = h.totals;
    return `<h3>${esc(timeframe)} bars: ${formatInt(grid.symbols.length)} symbols × ${formatInt(grid.days.length)} days</h3>
<div class="figures">${fig(formatInt(t.stored), "bars stored")}${fig(formatInt(t.expected), "the calendar's most (fetched days)")}
${fig(formatInt(t.holes), "holes (symbol-days)", t.holes ? "bad" : "")}${fig(formatInt(t.extras), "symbol-days with extra bars")}
${fig(formatInt(t.pending), "symbol-days not fetched yet")}</div>
${legend()}${aggregationNote(h, grid.symbols.length, grid.days.length)}
<div class="scroll">${svg}</div>
<p class="note">The calendar's most is the number of ${esc(timeframe)} buckets that overlap the 04:00–20:00 New York extended session ` +
      `(to 17:00 on half days); real markets do not trade every minute, so a day below it is normal, a day with none is not.</p>`;
  }).join("\n");
}

function definitionsTable(defs: DefinitionSummary[]): string {
  const rows = defs.map((d) => `<tr><td class="n">${d.id}</td><td>${esc(d.name)}</td><td>${esc(d.kind)}</td>` +
    `<td class="n">${formatInt(d.symbols.length)}</td><td>${esc(d.timeframe)}</td>` +
    `<td class="n">${d.done}</td><td class="n">${d.failed}</td><td class="n">${d.running}</td><td class="n">${d.queued}</td>` +
    `<td class="n">${d.total}</td><td class="n">${formatInt(d.bars)}</td>` +
    `<td class="nw">${esc(formatBound(d.rangeStart))} – ${esc(formatBound(d.rangeEnd))}</td>` +
    `<td class="nw">${d.coveredFrom ? `${esc(d.coveredFrom)} – ${esc(d.coveredTo!)}` : "none yet"}</td>` +
    `<td class="nw">${esc(d.current ?? "fixed range")}</td></tr>`);
  return `<table><thead><tr><th>id</th><th>name</th><th>kind</th><th>symbols</th><th>timeframe</th><th>done</th><th>failed</th>` +
    `<th>running</th><th>queued</th><th>slices</th><th>bars</th><th>range, UTC (end exclusive)</th><th>days with bars</th>` +
    `<th>current</th></tr></thead><tbody>${rows.join("")}</tbody></table>`;
}

function spendSection(s: Spend): string {
  if (!s.window) return `<p class="empty">No run has started yet, so nothing was spent.</p>`;
  const perRequest = s.requests > 0 ? formatInt(s.bars / s.requests) : "—";
  const perPage = s.pages > 0 ? formatInt(s.bars / s.pages) : "—";
  return `<div class="figures">${fig(formatInt(s.requests), "Alpaca requests")}${fig(perRequest, "bars per request")}
${fig(formatInt(s.rateLimited), "429s from Alpaca")}${fig(formatInt(s.deferred), "429s that deferred a run")}
${fig(formatInt(s.retries), "retries (failed attempts)")}${fig(formatInt(s.handBacks), "hand-backs before an isolate limit")}
${fig(formatInt(s.leaseExpired), "leases expired")}${fig(formatInt(s.pages), `pages stored (${perPage} bars each)`)}</div>
<p class="note">Requests and 429s are counted per minute for the whole Alpaca account (<code>rate_bucket_minutes</code>), ` +
    `from ${esc(formatTime(s.window.from))} for ${esc(formatDuration(s.window.to.getTime() - s.window.from.getTime()))}, ` +
    `while these definitions' runs were active: ` +
    `other work in that window is included. The rest is counted from these definitions' runs.</p>
${rateChartSvg(s.minutes, s.window)}${s.minutes.some((m) => m.requests > m.perMinute)
    ? `<p class="note">A minute above the budget is the bucket's burst: it starts full (ALPACA_BURST, by default one minute's worth) and refills at the budget's rate.</p>`
    : ""}`;
}

function errorsSection(groups: ErrorGroup[]): string {
  if (groups.length === 0) return `<p class="empty">No errors.</p>`;
  const rows = groups.map((g) => `<tr><td>${esc(g.kind)}</td><td class="n">${formatInt(g.count)}</td><td class="n">${formatInt(g.runs)}</td>` +
    `<td>${esc(formatTime(g.lastAt))}</td><td>${esc(g.cause)}<div class="note">e.g. ${esc(g.example.slice(0, 300))}</div></td></tr>`);
  return `<p class="note">The newest failure records of these runs, grouped by kind and message (numbers and quoted values masked). ` +
    `Hand-backs are not errors; they are counted above.</p><table><thead><tr><th>kind</th><th>times</th><th>runs</th>` +
    `<th>last</th><th>cause</th></tr></thead><tbody>${rows.join("")}</tbody></table>`;
}

export function renderReport(data: ReportData): string {
  const title = `Bars backfill report: ${data.scope}`;
  const head = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${esc(title)}</title>` +
    `<meta name="viewport" content="width=device-width, initial-scale=1"><style>${CSS}</style></head><body>` +
    `<h1>${esc(title)}</h1><p class="sub">Generated ${esc(formatTime(data.generatedAt))} from the project's tables and views.</p>`;
  if (data.definitions.length === 0) {
    return `${head}<p class="empty" id="nothing-yet">Nothing yet: this database has no job definitions, so there is no coverage ` +
      `or spend to show. Plan a backfill with <code>npm run jobs -- create …</code> (or run <code>npm start</code>), ` +
      `then make this report again.</p></body></html>\n`;
  }
  return `${head}
<h2>Coverage</h2>${coverageSection(data)}
<h2>Definitions</h2>${definitionsTable(data.definitions)}
<h2>What the run spent</h2>${spendSection(data.spend)}
<h2>Recent errors, by cause</h2>${errorsSection(data.errors)}
</body></html>
`;
}
