/** Reads the report's data and writes the page: what `jobs report` and the end of `npm start` both do. */
import { mkdir, writeFile } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import type { Sql } from "postgres";
import { readReportData, type ReportData } from "./data.ts";
import { renderReport } from "./render.ts";

export interface WrittenReport {
  path: string;
  bytes: number;
  data: ReportData;
}

/** Definitions `ids`, or every definition when undefined; the file's directory is created if missing. */
export async function writeReport(sql: Sql, ids: number[] | undefined, out: string): Promise<WrittenReport> {
  const data = await readReportData(sql, ids);
  const html = renderReport(data);
  const path = resolve(out);
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, html);
  return { path, bytes: Buffer.byteLength(html), data };
}
