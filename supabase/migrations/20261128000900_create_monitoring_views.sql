-- Monitoring views for Studio, psql and `npm run jobs -- status`. They read
-- with the caller's rights (security_invoker), so RLS and grants still apply.

create view public.job_status_by_definition with (security_invoker = true) as
select jd.id as job_def_id, jd.kind, jd.symbol,
       jsonb_array_length(public.job_definition_symbols(jd)) as symbols_count,
       jd.timeframe, jr.status, count(*) as runs, coalesce(sum(jr.rows_written), 0) as bars_written
  from public.job_runs jr
  join public.job_definitions jd on jd.id = jr.job_def_id
 group by jd.id, jd.kind, jd.symbol, jd.symbols_array, jd.timeframe, jr.status;

create view public.job_recent_errors with (security_invoker = true) as
select jr.id as run_id, jd.id as job_def_id, jd.kind, jd.symbol, jr.status, jr.attempt, jr.max_attempts,
       jr.slice_start, jr.slice_end, jr.error_message, coalesce(jr.finished_at, jr.updated_at) as at
  from public.job_runs jr
  join public.job_definitions jd on jd.id = jr.job_def_id
 where jr.error_message is not null
 order by coalesce(jr.finished_at, jr.updated_at) desc;

-- The old system inferred "batch" from symbols_array having more than one
-- element; here kind is stored. This view shows both, and any disagreement.
create view public.job_batch_detection with (security_invoker = true) as
select jd.id as job_def_id, jd.symbol, jd.kind,
       case when jd.symbols_array is not null and jsonb_typeof(jd.symbols_array) = 'array'
            then jsonb_array_length(jd.symbols_array) end as symbols_count,
       -- The Edge Function each kind is routed to; null for a kind not listed here.
       case jd.kind when 'single' then 'fetch-bars' when 'batch' then 'fetch-bars-batch' end as routed_to,
       case when jd.symbols_array is not null and jsonb_typeof(jd.symbols_array) = 'array'
                 and jsonb_array_length(jd.symbols_array) > 1 then 'BATCH' else 'SINGLE' end as old_inference,
       (jd.kind = 'batch') <> (jd.symbols_array is not null and jsonb_typeof(jd.symbols_array) = 'array'
                                and jsonb_array_length(jd.symbols_array) > 1) as old_inference_was_wrong
  from public.job_definitions jd;

create view public.job_progress with (security_invoker = true) as
select jd.id as job_def_id, jd.kind, jd.symbol,
       jsonb_array_length(public.job_definition_symbols(jd)) as symbols_count,
       jd.timeframe, jd.range_start, jd.range_end, jd.enabled,
       count(jr.id) as slices_total,
       count(jr.id) filter (where jr.status = 'success') as slices_done,
       count(jr.id) filter (where jr.status = 'failed') as slices_failed,
       count(jr.id) filter (where jr.status = 'running') as slices_running,
       count(jr.id) filter (where jr.status = 'queued') as slices_queued,
       count(jr.id) filter (where jr.status = 'cancelled') as slices_cancelled,
       coalesce(sum(jr.rows_written), 0) as bars_written,
       coalesce(sum(jr.pages_fetched), 0) as pages_fetched,
       min(jr.started_at) as first_started_at,
       max(jr.updated_at) as last_activity_at
  from public.job_definitions jd
  left join public.job_runs jr on jr.job_def_id = jd.id
 group by jd.id;
