/**
 * A monitoring view with one row (or a few) per job definition. Every such
 * view carries job_def_id and kind, so one filter (--id, --kind), one set of
 * leading columns and one printer serve all of them.
 */
import type { PendingQuery, Row, Sql } from "postgres";
import { type Column, printJson, renderTable } from "./format.ts";

export interface DefinitionFilter {
  id?: number;
  kind?: "single" | "batch";
}

/** What every definition view selects first. */
export interface DefinitionRow {
  job_def_id: string;
  kind: string;
  symbol: string;
}

export interface DefinitionView<T extends DefinitionRow> {
  /** The view's rows; `where` is the definition filter, for the query's where clause. */
  select(sql: Sql, where: PendingQuery<Row[]>): Promise<T[]>;
  /** The columns after id, kind and name. */
  columns: Column<T>[];
  /** Printed instead of an empty table, when set. */
  empty?: string;
  /** A line printed after the table. */
  summary?(rows: T[]): string;
}

function definitionWhere(sql: Sql, f: DefinitionFilter): PendingQuery<Row[]> {
  return sql`(${f.id ?? null}::bigint is null or job_def_id = ${f.id ?? null}::bigint)
         and (${f.kind ?? null}::text is null or kind = ${f.kind ?? null}::text)`;
}

const DEFINITION_COLUMNS: Column<DefinitionRow>[] = [
  { header: "id", value: (r) => Number(r.job_def_id) },
  { header: "kind", value: (r) => r.kind },
  { header: "name", value: (r) => r.symbol },
];

/**
 * Prints the view's rows that match `filter`: as JSON, or as a table of at
 * most `limit` rows (0: all) followed by the view's summary line, which always
 * counts every matching row, so a universe of hundreds of definitions stays
 * readable.
 */
export async function printDefinitionView<T extends DefinitionRow>(
  sql: Sql,
  view: DefinitionView<T>,
  filter: DefinitionFilter,
  json: boolean,
  limit = 0,
): Promise<void> {
  const rows = await view.select(sql, definitionWhere(sql, filter));
  if (json) return printJson(rows);
  if (rows.length === 0 && view.empty !== undefined) return console.log(view.empty);
  const shown = limit > 0 ? rows.slice(0, limit) : rows;
  console.log(renderTable(shown, [...(DEFINITION_COLUMNS as Column<T>[]), ...view.columns]));
  if (shown.length < rows.length) {
    console.log(`… ${rows.length - shown.length} more row(s) not shown (--limit 0 shows all; --id or --kind narrows)`);
  }
  if (view.summary) console.log(view.summary(rows));
}
