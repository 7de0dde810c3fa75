/** Text for the report: escaping for HTML and SVG, and numbers and times as people read them. */

export function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!);
}

export function formatInt(n: number): string {
  return Math.round(n).toLocaleString("en-US");
}

/** 'YYYY-MM-DD HH:MM UTC', or '—'. */
export function formatTime(d: Date | null | undefined): string {
  return d ? `${d.toISOString().slice(0, 16).replace("T", " ")} UTC` : "—";
}
