import { describe, expect, it } from "vitest";
import { useTestDb } from "../../helpers/db.ts";
import { failJobRun } from "../../../supabase/functions/_shared/db.ts";
import type { FailureKind } from "../../../supabase/functions/_shared/errors.ts";
import { claim, queueRuns, runRow, WORKER_A } from "../../helpers/fixtures.ts";

const db = useTestDb({ truncateBeforeEach: ["public.job_definitions"] });

/** The SQL transition of each failure kind, called directly. */
function transition(kind: FailureKind, runId: string, attempt: number, retryAfterMs: number | null) {
  switch (kind) {
    case "retryable":
      return db.sql`select public.retry_or_fail_job_run(${runId}, ${WORKER_A}, ${attempt}, 'boom') as status`;
    case "permanent":
      return db.sql`select public.fail_job_run(${runId}, ${WORKER_A}, ${attempt}, 'boom') as status`;
    case "rate_limited":
      return db.sql`select public.defer_rate_limited_job_run(${runId}, ${WORKER_A}, ${attempt}, 'boom', ${retryAfterMs}) as status`;
  }
}

/** Claims the only run, fails it with `kind`, makes it due again; returns the delay that was chosen. */
async function failOnce(kind: FailureKind, retryAfterMs: number | null = null) {
  const [run] = await claim(db.sql, WORKER_A);
  expect(run, "a run should be claimable").toBeDefined();
  const [{ status }] = await transition(kind, run!.run_id, run!.attempt, retryAfterMs);
  // A separate statement: a CTE would read job_runs from before the function's update.
  const [{ delay }] = await db.sql`
    select extract(epoch from (run_after - now()))::float8 as delay from public.job_runs where id = ${run!.run_id}`;
  await db.sql`update public.job_runs set run_after = now() where id = ${run!.run_id}`;
  return { runId: run!.run_id, attempt: run!.attempt, status: status as string, delay: delay as number };
}

describe("failure transitions", () => {
  it("retryable failures back off exponentially (with jitter) and fail after max_attempts", async () => {
    await queueRuns(db.sql, { runs: 1, maxAttempts: 5 });
    const outcomes = [];
    for (let i = 0; i < 5; i++) outcomes.push(await failOnce("retryable"));
    expect(outcomes.map((o) => o.attempt)).toEqual([1, 2, 3, 4, 5]);
    expect(outcomes.map((o) => o.status)).toEqual(["queued", "queued", "queued", "queued", "failed"]);
    const delays = outcomes.slice(0, 4).map((o) => o.delay);
    for (let i = 1; i < delays.length; i++) expect(delays[i]!).toBeGreaterThan(delays[i - 1]!);
    expect(delays[0]!).toBeGreaterThanOrEqual(7.5 - 0.5);
    expect(delays[0]!).toBeLessThanOrEqual(12.5 + 0.5);
    const row = await runRow(db.sql, outcomes[0]!.runId);
    expect(row.finished_at).not.toBeNull();
    expect(row.errors.map((e) => e.attempt)).toEqual([1, 2, 3, 4, 5]);
  });

  it("the backoff grows with the attempt across many samples", async () => {
    const [row] = await db.sql`
      select max(extract(epoch from public.job_run_backoff(1))) filter (where a = 1) as max1,
             min(extract(epoch from public.job_run_backoff(2))) filter (where a = 2) as min2,
             max(extract(epoch from public.job_run_backoff(5))) filter (where a = 5) as max5,
             min(extract(epoch from public.job_run_backoff(6))) filter (where a = 6) as min6,
             count(distinct extract(epoch from public.job_run_backoff(3))) filter (where a = 3) as distinct3
        from generate_series(1, 6) a, generate_series(1, 200)`;
    expect(Number(row!.min2)).toBeGreaterThan(Number(row!.max1));
    expect(Number(row!.min6)).toBeGreaterThan(Number(row!.max5));
    expect(Number(row!.distinct3)).toBeGreaterThan(100); // jitter
  });

  it("a permanent error fails at once", async () => {
    await queueRuns(db.sql, { runs: 1, maxAttempts: 5 });
    const o = await failOnce("permanent");
    expect(o.status).toBe("failed");
    const row = await runRow(db.sql, o.runId);
    expect(row).toMatchObject({ status: "failed", attempt: 1, error_message: "boom" });
  });

  it("a rate-limited failure requeues after the delay and keeps its attempt count", async () => {
    await queueRuns(db.sql, { runs: 1, maxAttempts: 2 });
    const outcomes = [];
    for (let i = 0; i < 4; i++) outcomes.push(await failOnce("rate_limited", 30_000));
    expect(outcomes.map((o) => o.status)).toEqual(["queued", "queued", "queued", "queued"]);
    expect(outcomes.map((o) => o.attempt)).toEqual([1, 1, 1, 1]);
    expect(outcomes[0]!.delay).toBeGreaterThanOrEqual(29);
    expect((await runRow(db.sql, outcomes[0]!.runId)).attempt).toBe(0);
  });

  it("each entry in errors records its kind, attempt, message, worker and handler", async () => {
    await queueRuns(db.sql, { runs: 1, maxAttempts: 5 });
    await failOnce("retryable");
    await failOnce("rate_limited", 1000);
    const { runId } = await failOnce("permanent");
    const row = await runRow(db.sql, runId);
    expect(row.errors).toEqual([
      expect.objectContaining({ kind: "retryable", attempt: 1, message: "boom", worker: WORKER_A, handled_by: null }),
      expect.objectContaining({ kind: "rate_limited", attempt: 2, message: "boom", worker: WORKER_A, handled_by: null }),
      expect.objectContaining({ kind: "permanent", attempt: 2, message: "boom", worker: WORKER_A, handled_by: null }),
    ]);
    expect(row.errors.every((e) => typeof (e as { at?: unknown }).at === "string")).toBe(true);
  });

  it("failJobRun calls the transition of its kind", async () => {
    await queueRuns(db.sql, { runs: 1, maxAttempts: 5 });
    const statuses: Array<string | null> = [];
    for (const kind of ["rate_limited", "retryable", "permanent"] as const) {
      const [run] = await claim(db.sql, WORKER_A);
      const c = { runId: run!.run_id, worker: WORKER_A, attempt: run!.attempt };
      statuses.push(await failJobRun(db.sql, c, kind, `${kind} failure`, { retryAfterMs: 1000, handledBy: "fetch-bars" }));
      await db.sql`update public.job_runs set run_after = now() where id = ${run!.run_id}`;
    }
    expect(statuses).toEqual(["queued", "queued", "failed"]);
    const [run] = await db.sql`select id from public.job_runs`;
    const row = await runRow(db.sql, run!.id);
    expect(row.errors.map((e) => [e.kind, e.attempt])).toEqual([["rate_limited", 1], ["retryable", 1], ["permanent", 2]]);
    expect(row).toMatchObject({ status: "failed", attempt: 2, error_message: "permanent failure" });
  });

  it("refuses an unknown failure kind", async () => {
    await queueRuns(db.sql, { runs: 1 });
    const [run] = await claim(db.sql, WORKER_A);
    const before = await runRow(db.sql, run!.run_id);
    const c = { runId: run!.run_id, worker: WORKER_A, attempt: 1 };
    await expect(failJobRun(db.sql, c, "oops" as FailureKind, "x")).rejects.toThrow(/unknown failure kind oops/);
    expect(await runRow(db.sql, run!.run_id)).toEqual(before);
  });
});
