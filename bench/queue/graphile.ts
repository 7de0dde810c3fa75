/** graphile-worker batched, the queue figure's main baseline: a local queue of C+1 jobs, no completion batch delay. */
import { Logger, run, type Runner } from "graphile-worker";
import type { Sql } from "postgres";
import type { BenchDatabase } from "../lib/db.ts";
import type { Cell } from "./cell.ts";
import { type Tracker, waitFor } from "./tracker.ts";

export const silentLogger = new Logger(() => () => {});

export async function resetGraphile(sql: Sql, n: number): Promise<void> {
  await sql`delete from graphile_worker._private_jobs`;
  await sql`delete from graphile_worker._private_job_queues`;
  // add_jobs is graphile-worker's bulk path.
  await sql`select graphile_worker.add_jobs(array(
              select row('noop', json_build_object('i', g), null, null, null, null, null, null)::graphile_worker.job_spec
                from generate_series(1, ${n}::int) g))`;
  await sql`vacuum analyze`;
}

export async function runGraphile(db: BenchDatabase, cell: Cell, n: number, capMs: number, tracker: Tracker): Promise<boolean> {
  let runner: Runner | undefined;
  const deadline = performance.now() + capMs;
  try {
    runner = await run({
      connectionString: db.url,
      concurrency: cell.concurrency,
      maxPoolSize: cell.concurrency + 4,
      noHandleSignals: true,
      pollInterval: 2000,
      logger: silentLogger,
      taskList: {
        noop: (_payload, helpers) => {
          tracker.hit(String(helpers.job.id));
          tracker.finished(1);
          return Promise.resolve();
        },
      },
      preset: { worker: { localQueue: { size: cell.concurrency + 1 }, completeJobBatchDelay: 0, failJobBatchDelay: 0 } },
    });
    return await waitFor(tracker, n, deadline);
  } finally {
    await runner?.stop();
  }
}
