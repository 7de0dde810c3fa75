import { describe, expect, it } from "vitest";
import { useTestDb } from "../../helpers/db.ts";
import { claim, expireLease, queueRuns, runRow, WORKER_A, WORKER_B } from "../../helpers/fixtures.ts";

const db = useTestDb({ truncateBeforeEach: ["public.job_definitions", "public.bars"] });

describe("leases and guarded transitions", () => {
  it("requeues an expired run; the first holder's late complete and fail are refused and change nothing", async () => {
    await queueRuns(db.sql, { runs: 1 });
    const [first] = await claim(db.sql, WORKER_A);
    await expireLease(db.sql, first!.run_id);

    const [{ requeued }] = await db.sql`select public.requeue_expired_job_runs() as requeued`;
    expect(requeued).toBe(1);
    const afterRequeue = await runRow(db.sql, first!.run_id);
    expect(afterRequeue).toMatchObject({ status: "queued", locked_by: null, attempt: 1 });
    expect(afterRequeue.errors.at(-1)).toMatchObject({ kind: "lease_expired", attempt: 1 });

    const [second] = await claim(db.sql, WORKER_B);
    expect(second).toMatchObject({ run_id: first!.run_id, attempt: 2, locked_by: WORKER_B });
    const before = await runRow(db.sql, first!.run_id);

    const [{ completed }] = await db.sql`select public.complete_job_run(${first!.run_id}, ${WORKER_A}, 1) as completed`;
    const [{ failed, retried, deferred }] = await db.sql`
      select public.fail_job_run(${first!.run_id}, ${WORKER_A}, 1, 'late failure') as failed,
             public.retry_or_fail_job_run(${first!.run_id}, ${WORKER_A}, 1, 'late failure') as retried,
             public.defer_rate_limited_job_run(${first!.run_id}, ${WORKER_A}, 1, 'late failure') as deferred`;
    const [{ checkpointed }] = await db.sql`
      select public.checkpoint_job_run(${first!.run_id}, ${WORKER_A}, 1, 'tok', 5) as checkpointed`;
    expect([completed, failed, retried, deferred, checkpointed]).toEqual([false, null, null, null, false]);
    expect(await runRow(db.sql, first!.run_id)).toEqual(before);

    // The same holder name with a stale attempt number is refused too.
    const [{ staleAttempt }] = await db.sql`
      select public.complete_job_run(${first!.run_id}, ${WORKER_B}, 1) as "staleAttempt"`;
    expect(staleAttempt).toBe(false);

    const [{ done }] = await db.sql`select public.complete_job_run(${first!.run_id}, ${WORKER_B}, 2) as done`;
    expect(done).toBe(true);
    expect(await runRow(db.sql, first!.run_id)).toMatchObject({ status: "success", locked_by: null });
  });

  it("does not requeue runs whose lease is still valid", async () => {
    await queueRuns(db.sql, { runs: 3 });
    await claim(db.sql, WORKER_A, 3);
    const [{ n }] = await db.sql`select public.requeue_expired_job_runs() as n`;
    expect(n).toBe(0);
  });

  it("fails an expired run that has used its last attempt", async () => {
    await queueRuns(db.sql, { runs: 1, maxAttempts: 1 });
    const [run] = await claim(db.sql, WORKER_A);
    await expireLease(db.sql, run!.run_id);
    await db.sql`select public.requeue_expired_job_runs()`;
    const row = await runRow(db.sql, run!.run_id);
    expect(row.status).toBe("failed");
    expect(row.error_message).toMatch(/lease expired/);
  });

  it("checkpoint saves the page token and extends the lease", async () => {
    await queueRuns(db.sql, { runs: 1 });
    const [run] = await claim(db.sql, WORKER_A, 1, "2 seconds");
    const [{ ok }] = await db.sql`
      select public.checkpoint_job_run(${run!.run_id}, ${WORKER_A}, 1, 'QUFQTHxNfDE=', 10000, interval '10 minutes') as ok`;
    expect(ok).toBe(true);
    const [row] = await db.sql`select page_token, rows_written::int, pages_fetched, locked_until > now() + interval '9 minutes' as extended
                                 from public.job_runs where id = ${run!.run_id}`;
    expect(row).toEqual({ page_token: "QUFQTHxNfDE=", rows_written: 10000, pages_fetched: 1, extended: true });
  });

  it("a retried run resumes from its checkpoint", async () => {
    await queueRuns(db.sql, { runs: 1 });
    const [run] = await claim(db.sql, WORKER_A);
    await db.sql`select public.checkpoint_job_run(${run!.run_id}, ${WORKER_A}, 1, 'resume-here', 3)`;
    await db.sql`select public.retry_or_fail_job_run(${run!.run_id}, ${WORKER_A}, 1, 'HTTP 500')`;
    await db.sql`update public.job_runs set run_after = now() where id = ${run!.run_id}`;
    const [again] = await claim(db.sql, WORKER_B);
    expect(again).toMatchObject({ run_id: run!.run_id, attempt: 2, page_token: "resume-here" });
  });
});
