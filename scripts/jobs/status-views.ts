/** The other monitoring views, for `jobs status --by-status` and `jobs status --routing`. */
import type { Sql } from "postgres";
import { printJson, renderTable } from "./format.ts";

export async function printByStatus(sql: Sql, filter: { id?: number; kind?: string }, json: boolean): Promise<void> {
  const rows = await sql<{ job_def_id: string; kind: string; symbol: string; symbols_count: number; timeframe: string; status: string; runs: number; bars_written: number }[]>`
    select job_def_id::text, kind, symbol, symbols_count::int, timeframe, status, runs::int, bars_written::float8 as bars_written
      from public.job_status_by_definition
     where (${filter.id ?? null}::bigint is null or job_def_id = ${filter.id ?? null}::bigint)
       and (${filter.kind ?? null}::text is null or kind = ${filter.kind ?? null}::text)
     order by job_def_id, status`;
  if (json) return printJson(rows);
  console.log(renderTable(rows, [
    { header: "id", value: (r) => Number(r.job_def_id) },
    { header: "kind", value: (r) => r.kind },
    { header: "name", value: (r) => r.symbol },
    { header: "symbols", value: (r) => r.symbols_count },
    { header: "timeframe", value: (r) => r.timeframe },
    { header: "status", value: (r) => r.status },
    { header: "runs", value: (r) => r.runs },
    { header: "bars", value: (r) => r.bars_written },
  ]));
}

/** job_batch_detection: the stored kind, the route it takes, and what the old system would have inferred. */
export async function printRouting(sql: Sql, filter: { id?: number; kind?: string }, json: boolean): Promise<void> {
  const rows = await sql<{ job_def_id: string; symbol: string; kind: string; symbols_count: number | null; routed_to: string; old_inference: string; old_inference_was_wrong: boolean }[]>`
    select job_def_id::text, symbol, kind, symbols_count, routed_to, old_inference, old_inference_was_wrong
      from public.job_batch_detection
     where (${filter.id ?? null}::bigint is null or job_def_id = ${filter.id ?? null}::bigint)
       and (${filter.kind ?? null}::text is null or kind = ${filter.kind ?? null}::text)
     order by job_def_id`;
  if (json) return printJson(rows);
  console.log(renderTable(rows, [
    { header: "id", value: (r) => Number(r.job_def_id) },
    { header: "kind", value: (r) => r.kind },
    { header: "name", value: (r) => r.symbol },
    { header: "symbols", value: (r) => r.symbols_count ?? 1 },
    { header: "routed to", value: (r) => r.routed_to },
    { header: "old inference", value: (r) => r.old_inference },
    { header: "old was wrong", value: (r) => (r.old_inference_was_wrong ? "yes" : "no") },
  ]));
}
