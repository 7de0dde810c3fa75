/** pg-boss, a queue figure baseline: batches of the cell's size, fetching again at once when a batch came back full. */
import { PgBoss } from "pg-boss";
import type { Sql } from "postgres";
import type { BenchDatabase } from "../lib/db.ts";
import type { Cell } from "./cell.ts";
import { type Tracker, waitFor } from "./tracker.ts";

const BOSS_QUEUE = "noop";

function newBoss(db: BenchDatabase, max: number): PgBoss {
  const boss = new PgBoss({
    connectionString: db.url,
    max,
    supervise: false,
    schedule: false,
    migrate: true,
    createSchema: true,
  });
  boss.on("error", () => {});
  return boss;
}

export async function resetBoss(db: BenchDatabase, sql: Sql, n: number): Promise<void> {
  const boss = newBoss(db, 2);
  await boss.start();
  try {
    if (!(await boss.getQueue(BOSS_QUEUE))) await boss.createQueue(BOSS_QUEUE);
    await boss.deleteAllJobs(BOSS_QUEUE);
    for (let i = 0; i < n; i += 5000) {
      await boss.insert(BOSS_QUEUE, Array.from({ length: Math.min(5000, n - i) }, (_, k) => ({ data: { i: i + k } })));
    }
  } finally {
    await boss.stop({ graceful: false, close: true });
  }
  await sql`vacuum analyze`;
}

export async function runBoss(db: BenchDatabase, cell: Cell, n: number, capMs: number, tracker: Tracker): Promise<boolean> {
  const boss = newBoss(db, cell.concurrency + 4);
  await boss.start();
  const deadline = performance.now() + capMs;
  try {
    await boss.work<{ i: number }>(BOSS_QUEUE, {
      batchSize: cell.batch,
      burstWhenBatchFull: true,
      pollingIntervalSeconds: 0.5,
      localConcurrency: cell.concurrency,
    }, (jobs) => {
      for (const j of jobs) tracker.hit(j.id);
      tracker.finished(jobs.length);
      return Promise.resolve();
    });
    return await waitFor(tracker, n, deadline);
  } finally {
    await boss.offWork(BOSS_QUEUE).catch(() => {});
    await boss.stop({ graceful: false, close: true, timeout: 5000 }).catch(() => {});
  }
}
