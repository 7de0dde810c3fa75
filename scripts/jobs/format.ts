/** Plain aligned text tables (bold headers on a terminal only) and value formatting. */

export interface Column<T> {
  header: string;
  value: (row: T) => string | number | null | undefined;
  /** Numbers align right unless told otherwise. */
  align?: "left" | "right";
}

function useColor(): boolean {
  return Boolean(process.stdout.isTTY) && !process.env.NO_COLOR;
}

export function renderTable<T>(rows: readonly T[], columns: readonly Column<T>[]): string {
  const cells = rows.map((row) => columns.map((c) => c.value(row)));
  const right = columns.map((c, i) => c.align ? c.align === "right" : cells.some((r) => typeof r[i] === "number"));
  const text = cells.map((r) => r.map((v) => (v === null || v === undefined ? "" : String(v))));
  const widths = columns.map((c, i) => Math.max(c.header.length, ...text.map((r) => r[i]!.length)));
  const line = (values: string[]) =>
    values.map((v, i) => (right[i] ? v.padStart(widths[i]!) : v.padEnd(widths[i]!))).join("  ").trimEnd();
  const header = line(columns.map((c) => c.header));
  const out = [useColor() ? `\x1b[1m${header}\x1b[0m` : header, ...text.map(line)];
  return out.join("\n");
}

/** 'YYYY-MM-DD HH:MM:SSZ' (UTC), or '' for null. */
export function formatInstant(value: Date | string | null | undefined): string {
  if (!value) return "";
  const d = value instanceof Date ? value : new Date(value);
  return d.toISOString().replace("T", " ").replace(/\.\d{3}Z$/, "Z");
}

export function truncate(text: string | null | undefined, max: number): string {
  if (!text) return "";
  const flat = text.replace(/\s+/g, " ");
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

export function printJson(value: unknown): void {
  console.log(JSON.stringify(value, (_k, v) => (typeof v === "bigint" ? v.toString() : v), 2));
}
