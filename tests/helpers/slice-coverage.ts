/**
 * Whether each definition's slices partition its range exactly: read from
 * job_runs alone, so it checks what the planner, the catch-up and extend wrote,
 * not what they meant to write.
 */
import type { Sql } from "postgres";

export interface SliceCoverage {
  job_def_id: string;
  slices: number;
  /** Pairs of slices of one definition whose [start, end) ranges meet. */
  overlaps: number;
  /** Consecutive slices (by start) where one does not start where the previous ended. */
  holes: number;
  /** The first slice starts at range_start and the last ends at range_end. */
  spans_range: boolean;
}

export async function sliceCoverage(sql: Sql): Promise<SliceCoverage[]> {
  return await sql<SliceCoverage[]>`
    select d.id::text as job_def_id,
           (select count(*)::int from public.job_runs r where r.job_def_id = d.id) as slices,
           (select count(*)::int from public.job_runs a join public.job_runs b
               on b.job_def_id = a.job_def_id and a.id < b.id
              and tstzrange(a.slice_start, a.slice_end) && tstzrange(b.slice_start, b.slice_end)
             where a.job_def_id = d.id) as overlaps,
           (select count(*)::int from (
               select r.slice_start, lag(r.slice_end) over (order by r.slice_start) as previous_end
                 from public.job_runs r where r.job_def_id = d.id) s
             where s.previous_end is not null and s.slice_start <> s.previous_end) as holes,
           coalesce((select min(r.slice_start) = d.range_start and max(r.slice_end) = d.range_end
                       from public.job_runs r where r.job_def_id = d.id), false) as spans_range
      from public.job_definitions d
     order by d.id`;
}

/** The coverage every definition must have: some slices, none overlapping, no hole, the whole range. */
export function exactCoverage(rows: SliceCoverage[]): Omit<SliceCoverage, "slices">[] {
  return rows.map((r) => ({ job_def_id: r.job_def_id, overlaps: 0, holes: 0, spans_range: true }));
}
