/**
 * Alpaca requests per minute over the run, against the budget, as a small
 * inline SVG: a bar per minute (or per a few minutes on a long run, averaged
 * per minute), the budget as a dashed line, and a red mark where 429s came.
 */
import type { MinuteSpend } from "./data.ts";
import { escapeXml, formatInt, formatTime } from "./format.ts";

const MAX_BARS = 360;
const [W, H, LEFT, BOTTOM, TOP] = [760, 170, 44, 22, 10];

export function rateChartSvg(minutes: MinuteSpend[], window: { from: Date; to: Date }): string {
  const start = Math.floor(window.from.getTime() / 60_000);
  const end = Math.max(start + 1, Math.ceil(window.to.getTime() / 60_000) + 1);
  const per = Math.max(1, Math.ceil((end - start) / MAX_BARS));
  const buckets = Math.ceil((end - start) / per);
  const requests = new Float64Array(buckets);
  const limited = new Float64Array(buckets);
  let budget = 0;
  for (const m of minutes) {
    const b = Math.floor((Math.floor(m.minute.getTime() / 60_000) - start) / per);
    if (b < 0 || b >= buckets) continue;
    requests[b]! += m.requests / per;
    limited[b]! += m.rateLimited;
    budget = Math.max(budget, m.perMinute);
  }
  const top = Math.max(budget, ...requests, 1) * 1.1;
  const plotW = W - LEFT - 8;
  const plotH = H - TOP - BOTTOM;
  const barW = plotW / buckets;
  const y = (v: number) => TOP + plotH - (v / top) * plotH;
  const out = [`<svg class="rate" xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" ` +
    `role="img" aria-label="Alpaca requests per minute">`];
  for (const v of [0, top / 2 / 1.1, top / 1.1]) {
    out.push(`<line class="grid" x1="${LEFT}" x2="${W - 8}" y1="${y(v).toFixed(1)}" y2="${y(v).toFixed(1)}"/>` +
      `<text class="axis" x="${LEFT - 4}" y="${(y(v) + 4).toFixed(1)}" text-anchor="end">${formatInt(v)}</text>`);
  }
  for (let b = 0; b < buckets; b++) {
    const at = new Date((start + b * per) * 60_000);
    const label = `${formatTime(at)}${per > 1 ? ` (+${per} min)` : ""}: ${formatInt(requests[b]!)} requests/min` +
      (limited[b]! ? `, ${formatInt(limited[b]!)} × 429` : "");
    const x = LEFT + b * barW;
    out.push(`<rect class="req" x="${x.toFixed(1)}" y="${y(requests[b]!).toFixed(1)}" width="${Math.max(0.5, barW - 0.5).toFixed(1)}" ` +
      `height="${(TOP + plotH - y(requests[b]!)).toFixed(1)}"><title>${escapeXml(label)}</title></rect>`);
    if (limited[b]!) {
      out.push(`<rect class="r429" x="${x.toFixed(1)}" y="${TOP}" width="${Math.max(2, barW - 0.5).toFixed(1)}" height="5">` +
        `<title>${escapeXml(label)}</title></rect>`);
    }
  }
  if (budget > 0) {
    out.push(`<line class="budget" x1="${LEFT}" x2="${W - 8}" y1="${y(budget).toFixed(1)}" y2="${y(budget).toFixed(1)}"/>` +
      `<text class="axis budget-label" x="${W - 10}" y="${(y(budget) - 4).toFixed(1)}" text-anchor="end">budget ${formatInt(budget)}/min</text>`);
  }
  out.push(`<text class="axis" x="${LEFT}" y="${H - 6}">${escapeXml(formatTime(window.from))}</text>`);
  out.push(`<text class="axis" x="${W - 8}" y="${H - 6}" text-anchor="end">${escapeXml(formatTime(new Date(end * 60_000)))}</text>`);
  out.push("</svg>");
  const note = per > 1 ? `<p class="note">Each bar is ${per} minutes, averaged per minute.</p>` : "";
  return out.join("") + note;
}
