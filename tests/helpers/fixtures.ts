import type { Sql } from "postgres";

export const WORKER_A = "worker-a";
export const WORKER_B = "worker-b";

/** A single-symbol definition with `runs` queued one-hour slices. Returns the definition id. */
export async function queueRuns(
  sql: Sql,
  opts: { runs: number; symbol?: string; priority?: number; maxAttempts?: number; enabled?: boolean },
): Promise<number> {
  const [def] = await sql<{ id: number }[]>`
    insert into public.job_definitions (kind, symbol, timeframe, range_start, range_end, priority, max_attempts, enabled)
    values ('single', ${opts.symbol ?? "AAPL"}, '1Min', '2024-01-01Z', '2030-01-01Z',
            ${opts.priority ?? 100}, ${opts.maxAttempts ?? 5}, ${opts.enabled ?? true})
    returning id`;
  await sql`
    insert into public.job_runs (job_def_id, slice_start, slice_end, priority, max_attempts)
    select ${def!.id}, s, s + interval '1 hour', ${opts.priority ?? 100}, ${opts.maxAttempts ?? 5}
      from generate_series('2024-01-01Z'::timestamptz, '2024-01-01Z'::timestamptz + (${opts.runs} - 1) * interval '1 hour',
                           interval '1 hour') s`;
  return Number(def!.id);
}

export interface ClaimedRun {
  run_id: string;
  kind: string;
  name: string;
  symbols: string[];
  attempt: number;
  max_attempts: number;
  page_token: string | null;
  locked_by: string;
}

export async function claim(sql: Sql, worker: string, limit = 1, lease = "5 minutes"): Promise<ClaimedRun[]> {
  return await sql<ClaimedRun[]>`select * from public.claim_job_runs(${worker}, ${limit}, ${lease}::interval)`;
}

export async function runRow(sql: Sql, id: string | number) {
  const [row] = await sql<
    {
      status: string;
      attempt: number;
      run_after: Date;
      locked_by: string | null;
      page_token: string | null;
      rows_written: string;
      error_message: string | null;
      errors: Array<{ kind: string; attempt: number }>;
      finished_at: Date | null;
    }[]
  >`select * from public.job_runs where id = ${id}`;
  return row!;
}

/** Pushes a run's lease into the past, as if its worker had died long ago. */
export async function expireLease(sql: Sql, id: string | number): Promise<void> {
  await sql`update public.job_runs set locked_until = now() - interval '1 second' where id = ${id}`;
}
