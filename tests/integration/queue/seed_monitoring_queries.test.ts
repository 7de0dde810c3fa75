/**
 * The status page of the system this one replaces lists
 * three monitoring queries operators already run. They are copied here
 * verbatim and must keep working against this schema.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { useTestDb } from "../../helpers/db.ts";

const CHECK_JOB_STATUS = `
SELECT 
  jd.symbol,
  jsonb_array_length(jd.symbols_array) as symbols_count,
  jr.status,
  COUNT(*) as count,
  SUM(jr.rows_written) as total_bars
FROM job_runs jr
JOIN job_definitions jd ON jr.job_def_id = jd.id
WHERE jd.symbol LIKE 'US_BATCH_%'
GROUP BY jd.symbol, jsonb_array_length(jd.symbols_array), jr.status
ORDER BY jr.status;
`;

const CHECK_RECENT_ERRORS = `
SELECT 
  jd.symbol,
  jr.error_message,
  jr.finished_at
FROM job_runs jr
JOIN job_definitions jd ON jr.job_def_id = jd.id
WHERE jd.symbol LIKE 'US_BATCH_%'
  AND jr.status = 'failed'
ORDER BY jr.finished_at DESC
LIMIT 5;
`;

const TEST_BATCH_DETECTION = `
SELECT 
  id,
  symbol,
  symbols_array,
  CASE 
    WHEN symbols_array IS NOT NULL 
      AND jsonb_typeof(symbols_array) = 'array' 
      AND jsonb_array_length(symbols_array) > 1 
    THEN 'BATCH'
    ELSE 'SINGLE'
  END as detected_type
FROM job_definitions
WHERE symbol LIKE 'US_BATCH_%';
`;

const db = useTestDb();
beforeAll(async () => {
  const sql = db.sql;
  const b1 = ["AAPL", "MSFT", "NVDA"];
  const b2 = ["TMUS", "TSLA"];
  // Fixture: US_BATCH_1 with 2 successes (100 + 250 bars) and 1 failure,
  // US_BATCH_2 with 1 queued run, and a single that the queries must ignore.
  await sql`select public.plan_backfill('batch', 'US_BATCH_1', ${b1 as never}::jsonb, '1Min', '2024-01-01Z', '2024-01-04Z', p_target_bars => 3000)`;
  await sql`select public.plan_backfill('batch', 'US_BATCH_2', ${b2 as never}::jsonb, '1Min', '2024-01-01Z', '2024-01-02Z', p_target_bars => 3000)`;
  await sql`select public.plan_backfill('single', 'AAPL', null, '1Min', '2024-01-01Z', '2024-01-02Z')`;
  const runs = await sql<{ id: string }[]>`
    select jr.id from public.job_runs jr join public.job_definitions jd on jd.id = jr.job_def_id
     where jd.symbol = 'US_BATCH_1' order by jr.slice_start`;
  expect(runs.length).toBe(3);
  await sql`update public.job_runs set status = 'success', rows_written = 100, finished_at = '2024-02-01Z' where id = ${runs[0]!.id}`;
  await sql`update public.job_runs set status = 'success', rows_written = 250, finished_at = '2024-02-02Z' where id = ${runs[1]!.id}`;
  await sql`update public.job_runs set status = 'failed', error_message = 'HTTP 500 from Alpaca', finished_at = '2024-02-03Z'
             where id = ${runs[2]!.id}`;
});

describe("the seed's monitoring queries, verbatim", () => {
  it("job status by definition", async () => {
    const rows = await db.sql.unsafe(CHECK_JOB_STATUS);
    expect(rows.map((r) => ({ ...r, total_bars: Number(r.total_bars), count: Number(r.count) }))).toEqual([
      { symbol: "US_BATCH_1", symbols_count: 3, status: "failed", count: 1, total_bars: 0 },
      { symbol: "US_BATCH_2", symbols_count: 2, status: "queued", count: 1, total_bars: 0 },
      { symbol: "US_BATCH_1", symbols_count: 3, status: "success", count: 2, total_bars: 350 },
    ]);
  });

  it("recent errors", async () => {
    const rows = await db.sql.unsafe(CHECK_RECENT_ERRORS);
    expect(rows).toEqual([
      { symbol: "US_BATCH_1", error_message: "HTTP 500 from Alpaca", finished_at: new Date("2024-02-03Z") },
    ]);
  });

  it("batch detection: both baskets are batches", async () => {
    const rows = await db.sql.unsafe(TEST_BATCH_DETECTION);
    expect(rows.map((r) => [r.symbol, r.detected_type])).toEqual([
      ["US_BATCH_1", "BATCH"],
      ["US_BATCH_2", "BATCH"],
    ]);
  });

  it("the project's own views agree, and show where the old inference would have been wrong", async () => {
    await db.sql`select public.plan_backfill('batch', 'ONE_SYMBOL_BATCH', '["IBM"]'::jsonb, '1Min', '2024-01-01Z', '2024-01-02Z')`;
    const detection = await db.sql`select symbol, kind, routed_to, old_inference, old_inference_was_wrong
                                     from public.job_batch_detection order by symbol`;
    expect(detection).toEqual([
      { symbol: "AAPL", kind: "single", routed_to: "fetch-bars", old_inference: "SINGLE", old_inference_was_wrong: false },
      { symbol: "ONE_SYMBOL_BATCH", kind: "batch", routed_to: "fetch-bars-batch", old_inference: "SINGLE", old_inference_was_wrong: true },
      { symbol: "US_BATCH_1", kind: "batch", routed_to: "fetch-bars-batch", old_inference: "BATCH", old_inference_was_wrong: false },
      { symbol: "US_BATCH_2", kind: "batch", routed_to: "fetch-bars-batch", old_inference: "BATCH", old_inference_was_wrong: false },
    ]);
    const [progress] = await db.sql`
      select slices_total::int, slices_done::int, slices_failed::int, bars_written::int from public.job_progress where symbol = 'US_BATCH_1'`;
    expect(progress).toEqual({ slices_total: 3, slices_done: 2, slices_failed: 1, bars_written: 350 });
    const errors = await db.sql`select symbol, error_message from public.job_recent_errors`;
    expect(errors).toEqual([{ symbol: "US_BATCH_1", error_message: "HTTP 500 from Alpaca" }]);
    const status = await db.sql`select status, runs::int, bars_written::int from public.job_status_by_definition
                                 where symbol = 'US_BATCH_1' order by status`;
    expect(status).toEqual([
      { status: "failed", runs: 1, bars_written: 0 },
      { status: "success", runs: 2, bars_written: 350 },
    ]);
  });
});
