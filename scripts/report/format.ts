/** Text for the report: escaping for HTML and SVG, and numbers and times as people read them. */

export function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!);
}

export function formatInt(n: number): string {
  return Math.round(n).toLocaleString("en-US");
}

/** 'YYYY-MM-DD HH:MM UTC' (without ' UTC' when the reader is told elsewhere), or '—'. */
export function formatTime(d: Date | null | undefined, zone = true): string {
  return d ? `${d.toISOString().slice(0, 16).replace("T", " ")}${zone ? " UTC" : ""}` : "—";
}

/** A range's end as people read it: the date alone at midnight UTC, else date and time. */
export function formatBound(d: Date): string {
  const text = formatTime(d, false);
  return text.endsWith(" 00:00") ? text.slice(0, 10) : text;
}

/** '42 s', '7 min', '3.5 h', '2.1 days'. */
export function formatDuration(ms: number): string {
  const s = ms / 1000;
  if (s < 120) return `${Math.round(s)} s`;
  if (s < 7200) return `${Math.round(s / 60)} min`;
  if (s < 172_800) return `${Math.round(s / 360) / 10} h`;
  return `${Math.round(s / 8640) / 10} days`;
}
