/**
 * Ours: claim_job_runs / complete_job_run on the product's own connection,
 * and the control, an unlocked select-then-update claim that must produce
 * duplicates, or the counter proves nothing.
 */
import type { Sql } from "postgres";
import { claimJobRuns, completeJobRun, connect } from "../../supabase/functions/_shared/db.ts";
import type { BenchDatabase } from "../lib/db.ts";
import type { Cell } from "./cell.ts";
import type { Tracker } from "./tracker.ts";

export async function resetOurs(sql: Sql, n: number): Promise<void> {
  await sql`truncate public.job_runs`;
  const [def] = await sql<{ id: string }[]>`
    insert into public.job_definitions (kind, symbol, timeframe, range_start, range_end)
    values ('single', 'AAPL', '1Min', '2000-01-01', '2100-01-01')
    on conflict on constraint definition_is_unique do update set updated_at = now()
    returning id::text`;
  await sql`
    insert into public.job_runs (job_def_id, slice_start, slice_end)
    select ${def!.id}::bigint, timestamptz '2001-01-01' + g * interval '1 minute', timestamptz '2001-01-01' + (g + 1) * interval '1 minute'
      from generate_series(0, ${n - 1}::int) g`;
  await sql`vacuum analyze public.job_runs`;
}

export async function runOurs(db: BenchDatabase, cell: Cell, n: number, capMs: number, tracker: Tracker): Promise<boolean> {
  // The product's own connection settings (no prepared statements, as for Supabase's pooler).
  const sql = connect(db.url, cell.concurrency);
  const deadline = performance.now() + capMs;
  try {
    await Promise.all(Array.from({ length: cell.concurrency }, async (_, w) => {
      const worker = `bench-${w}`;
      while (performance.now() < deadline) {
        const rows = await claimJobRuns(sql, worker, cell.batch, 300);
        if (rows.length === 0) return;
        for (const r of rows) tracker.hit(String(r.run_id));
        if (rows.length === 1) {
          const r = rows[0]!;
          await completeJobRun(sql, { runId: String(r.run_id), worker: r.locked_by, attempt: r.attempt }, "bench");
        } else {
          // One statement (one commit) completes the batch, through the same guarded function.
          await sql`select public.complete_job_run(x.id, ${worker}, x.attempt, 'bench')
                      from unnest(${rows.map((r) => String(r.run_id))}::bigint[], ${rows.map((r) => r.attempt)}::int[]) as x(id, attempt)`;
        }
        tracker.finished(rows.length);
      }
    }));
  } finally {
    await sql.end({ timeout: 5 });
  }
  return tracker.done >= n;
}

/** The control: look, then take, with nothing stopping two workers from taking the same run. */
export async function runUnlocked(db: BenchDatabase, cell: Cell, n: number, capMs: number, tracker: Tracker): Promise<boolean> {
  const sql = db.connect(cell.concurrency);
  const deadline = performance.now() + capMs;
  await Promise.all(Array.from({ length: cell.concurrency }, async (_, w) => {
    const worker = `unlocked-${w}`;
    while (performance.now() < deadline) {
      const rows = await sql<{ id: string }[]>`
        select id::text from public.job_runs where status = 'queued' order by priority, run_after, id limit ${cell.batch}`;
      if (rows.length === 0) return;
      const ids = rows.map((r) => r.id);
      await sql`update public.job_runs set status = 'running', attempt = attempt + 1, locked_by = ${worker},
                       locked_until = now() + interval '5 minutes' where id = any(${ids}::bigint[])`;
      for (const id of ids) tracker.hit(id);
      await sql`update public.job_runs set status = 'success', finished_at = now(), locked_by = null, locked_until = null
                 where id = any(${ids}::bigint[])`;
      tracker.finished(ids.length);
    }
  }));
  return tracker.done >= n;
}
