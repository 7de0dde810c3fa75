/**
 * The backfill npm start runs: one batch definition per basket, planned by
 * `public.plan_backfill` (idempotent: a rerun finds the same definitions and
 * slices, so it resumes rather than starting over).
 */
import type { Sql } from "postgres";
import type { Basket } from "./options.ts";

export interface PlanRequest {
  baskets: Basket[];
  timeframe: string;
  feed: string;
  rangeStart: Date;
  rangeEnd: Date;
  /** Followed definitions: from rangeStart through the last completed session (rangeEnd is not used). */
  follow: boolean;
}

export async function planBackfill(sql: Sql, req: PlanRequest): Promise<number[]> {
  const ids: number[] = [];
  for (const b of req.baskets) {
    try {
      const [row] = req.follow
        ? await sql<{ id: string }[]>`
            select public.plan_followed_backfill('batch', ${b.name}, ${b.symbols as never}::jsonb, ${req.timeframe},
                                                 ${req.rangeStart}, p_feed => ${req.feed}) as id`
        : await sql<{ id: string }[]>`
            select public.plan_backfill('batch', ${b.name}, ${b.symbols as never}::jsonb, ${req.timeframe},
                                        ${req.rangeStart}, ${req.rangeEnd}, p_feed => ${req.feed}) as id`;
      ids.push(Number(row!.id));
    } catch (err) {
      const message = (err as Error).message;
      const hint = /already exists with different symbols/.test(message) ? " (pick another basket name with --name)" : "";
      throw new Error(`cannot plan ${b.name}: ${message}${hint}`);
    }
  }
  return ids;
}

/** Other enabled definitions with work left: the orchestrator claims them too, so they are watched as well. */
export async function definitionsWithOpenWork(sql: Sql): Promise<number[]> {
  const rows = await sql<{ id: string }[]>`
    select distinct jd.id from public.job_definitions jd join public.job_runs jr on jr.job_def_id = jd.id
     where jd.enabled and jr.status in ('queued', 'running') order by jd.id`;
  return rows.map((r) => Number(r.id));
}
