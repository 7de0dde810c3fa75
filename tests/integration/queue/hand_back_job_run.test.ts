/**
 * hand_back_job_run on a real Postgres: a run given back before an isolate
 * limit keeps its checkpoint, frees its lease at once, is due now and gets
 * its attempt back; a run that keeps being handed back without storing a
 * page waits a second before it is claimed again, and is bounded: past the idle limit
 * (10 by default, 3 here) each hand-back counts as an attempt, and the run
 * ends failed when attempts run out.
 */
import { describe, expect, it } from "vitest";
import { useTestDb } from "../../helpers/db.ts";
import { claim, queueRuns, runRow, WORKER_A, WORKER_B } from "../../helpers/fixtures.ts";

const db = useTestDb({ truncateBeforeEach: ["public.job_definitions"] });

async function checkpoint(runId: string, worker: string, attempt: number, token: string) {
  await db.sql`select public.checkpoint_job_run(${runId}, ${worker}, ${attempt}, ${token}, 100)`;
}

async function handBack(runId: string, worker: string, attempt: number, maxIdle = 3) {
  const [{ status }] = await db.sql`
    select public.hand_back_job_run(${runId}, ${worker}, ${attempt}, 'isolate wall clock', 'fetch-bars',
                                    p_max_idle_handbacks => ${maxIdle}) as status`;
  return status as string | null;
}

async function delaySeconds(): Promise<number> {
  const [{ delay }] = await db.sql`select extract(epoch from run_after - now())::float8 as delay from public.job_runs`;
  return delay as number;
}

describe("hand_back_job_run", () => {
  it("keeps the checkpoint, frees the lease, is due now and gives the attempt back after progress", async () => {
    await queueRuns(db.sql, { runs: 1 });
    const [run] = await claim(db.sql, WORKER_A, 1, "1 hour");
    await checkpoint(run!.run_id, WORKER_A, run!.attempt, "page-2");
    expect(await handBack(run!.run_id, WORKER_A, run!.attempt)).toBe("queued");

    const row = await runRow(db.sql, run!.run_id);
    expect(row).toMatchObject({ status: "queued", attempt: 0, locked_by: null, page_token: "page-2", rows_written: "100" });
    expect(row.run_after.getTime()).toBeLessThanOrEqual(Date.now() + 1000);
    expect(row.errors).toEqual([expect.objectContaining({ kind: "handed_back", attempt: 1, message: "isolate wall clock" })]);

    // The next claim resumes from the checkpoint as attempt 1 again.
    const [again] = await claim(db.sql, WORKER_B);
    expect(again).toMatchObject({ run_id: run!.run_id, attempt: 1, page_token: "page-2" });
  });

  it("is refused, changing nothing, by a worker that no longer holds the run", async () => {
    await queueRuns(db.sql, { runs: 1 });
    const [run] = await claim(db.sql, WORKER_A);
    expect(await handBack(run!.run_id, WORKER_B, run!.attempt)).toBeNull();
    expect(await handBack(run!.run_id, WORKER_A, run!.attempt + 1)).toBeNull();
    expect(await runRow(db.sql, run!.run_id)).toMatchObject({ status: "running", locked_by: WORKER_A, errors: [] });
  });

  it("bounds a run that never progresses: three idle hand-backs are free, then each costs an attempt until it fails", async () => {
    await queueRuns(db.sql, { runs: 1, maxAttempts: 2 });
    const seen: Array<{ status: string | null; attempt: number }> = [];
    for (let i = 0; i < 10; i++) {
      await db.sql`update public.job_runs set run_after = now()`;
      const [run] = await claim(db.sql, WORKER_A);
      if (!run) break;
      const status = await handBack(run.run_id, WORKER_A, run.attempt);
      seen.push({ status, attempt: (await runRow(db.sql, run.run_id)).attempt });
    }
    expect(seen).toEqual([
      { status: "queued", attempt: 0 },
      { status: "queued", attempt: 0 },
      { status: "queued", attempt: 0 },
      { status: "queued", attempt: 1 },
      { status: "failed", attempt: 2 },
    ]);
    const [row] = await db.sql`select idle_handbacks, finished_at from public.job_runs`;
    expect(row).toMatchObject({ idle_handbacks: 5 });
    expect(row!.finished_at).not.toBeNull();
  });

  it("idle hand-backs wait a second; a counted one waits out a backoff; progress resets the idle count", async () => {
    await queueRuns(db.sql, { runs: 1, maxAttempts: 5 });
    const delays: number[] = [];
    for (let i = 0; i < 4; i++) {
      await db.sql`update public.job_runs set run_after = now()`;
      const [run] = await claim(db.sql, WORKER_A);
      await handBack(run!.run_id, WORKER_A, run!.attempt);
      delays.push(await delaySeconds());
    }
    expect(delays.slice(0, 3).map((d) => Math.round(d))).toEqual([1, 1, 1]);
    expect(delays[3]!).toBeGreaterThan(7); // job_run_backoff(1): 10 s +-25 %

    await db.sql`update public.job_runs set run_after = now()`;
    const [run] = await claim(db.sql, WORKER_A);
    await checkpoint(run!.run_id, WORKER_A, run!.attempt, "page-9");
    expect(await handBack(run!.run_id, WORKER_A, run!.attempt)).toBe("queued");
    const [row] = await db.sql`select idle_handbacks, attempt from public.job_runs`;
    expect(row).toMatchObject({ idle_handbacks: 0, attempt: 1 });
    expect(await delaySeconds()).toBeLessThan(1);
  });

  it("gives ten idle hand-backs in a row for free by default", async () => {
    await queueRuns(db.sql, { runs: 1, maxAttempts: 1 });
    for (let i = 0; i < 11; i++) {
      await db.sql`update public.job_runs set run_after = now()`;
      const [run] = await claim(db.sql, WORKER_A);
      await db.sql`select public.hand_back_job_run(${run!.run_id}, ${WORKER_A}, ${run!.attempt}, 'busy isolate')`;
    }
    expect(await runRow(db.sql, (await db.sql`select id from public.job_runs`)[0]!.id)).toMatchObject({ status: "failed", attempt: 1 });
  });
});
