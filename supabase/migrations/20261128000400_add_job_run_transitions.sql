-- State transitions of job_runs. TypeScript never updates job_runs.status: it
-- calls these functions. Every transition after the claim is guarded by the
-- run id AND the claim (status running, same holder, same attempt), so a worker
-- whose lease expired can never overwrite a run that someone else claimed since.
-- Longer than most files: every guarded transition of a run is here, side by side, so the guards can be read against each other.

-- Exponential backoff with +-25% jitter: 10 s, 20 s, 40 s ... capped at 30 min.
-- With 2x growth and +-25% jitter, attempt n+1 always waits longer than n
-- until the cap.
create function public.job_run_backoff(p_attempt integer) returns interval
language sql volatile parallel safe set search_path = ''
as $$
  select make_interval(secs =>
    least(10 * power(2, greatest(p_attempt, 1) - 1), 1800) * (0.75 + random() * 0.5))
$$;

create type public.claimed_job_run as (
  run_id        bigint,
  job_def_id    bigint,
  kind          text,
  name          text,
  symbols       jsonb,
  timeframe     text,
  feed          text,
  adjustment    text,
  slice_start   timestamptz,
  slice_end     timestamptz,
  attempt       integer,
  max_attempts  integer,
  page_token    text,
  rows_written  bigint,
  locked_by     text,
  locked_until  timestamptz
);

-- Claims up to p_limit due runs of enabled definitions, by priority then age.
-- The ids are picked in a sub-select fed to `= any(array(...))` rather than a
-- CTE join: inside a SQL function a parameterised LIMIT over a join gets a
-- generic plan that seq-scans the table instead of walking the claim index.
-- FOR UPDATE SKIP LOCKED makes concurrent claimers take disjoint rows.
create function public.claim_job_runs(
  p_worker text,
  p_limit integer default 1,
  p_lease interval default interval '5 minutes'
) returns setof public.claimed_job_run
language sql volatile set search_path = ''
as $$
  with claimed as (
    update public.job_runs r
       set status = 'running',
           attempt = r.attempt + 1,
           locked_by = p_worker,
           locked_until = now() + p_lease,
           pages_at_claim = r.pages_fetched,
           started_at = coalesce(r.started_at, now()),
           updated_at = now()
     where r.id = any(array(
             select q.id
               from public.job_runs q
              where q.status = 'queued'
                and q.run_after <= now()
                and exists (select 1 from public.job_definitions d where d.id = q.job_def_id and d.enabled)
              order by q.priority, q.run_after, q.id
              limit greatest(p_limit, 0)
                for update of q skip locked))
    returning r.*
  )
  select c.id, c.job_def_id, d.kind, d.symbol,
         public.job_definition_symbols(d),
         d.timeframe, d.feed, d.adjustment, c.slice_start, c.slice_end, c.attempt, c.max_attempts,
         c.page_token, c.rows_written, c.locked_by, c.locked_until
    from claimed c
    join public.job_definitions d on d.id = c.job_def_id
   order by c.priority, c.run_after, c.id
$$;

-- The guard shared by every transition after the claim.
create function public.job_run_is_held(p_run public.job_runs, p_worker text, p_attempt integer)
returns boolean
language sql immutable set search_path = ''
as $$ select p_run.status = 'running' and p_run.locked_by = p_worker and p_run.attempt = p_attempt $$;

-- Saves the resume point after a page was stored and extends the lease.
-- Returns false (and changes nothing) when the caller no longer holds the run.
create function public.checkpoint_job_run(
  p_run_id bigint, p_worker text, p_attempt integer,
  p_page_token text, p_rows bigint default 0,
  p_lease interval default interval '5 minutes'
) returns boolean
language sql volatile set search_path = ''
as $$
  with updated as (
    update public.job_runs r
       set page_token = p_page_token,
           pages_fetched = r.pages_fetched + 1,
           rows_written = r.rows_written + coalesce(p_rows, 0),
           locked_until = greatest(r.locked_until, now() + p_lease),
           updated_at = now()
     where r.id = p_run_id and public.job_run_is_held(r, p_worker, p_attempt)
    returning 1)
  select exists (select 1 from updated)
$$;

-- Marks a held run successful. Returns false when the claim was lost.
create function public.complete_job_run(
  p_run_id bigint, p_worker text, p_attempt integer, p_handled_by text default null
) returns boolean
language sql volatile set search_path = ''
as $$
  with updated as (
    update public.job_runs r
       set status = 'success', finished_at = now(), locked_by = null, locked_until = null,
           page_token = null, error_message = null, handled_by = coalesce(p_handled_by, r.handled_by),
           updated_at = now()
     where r.id = p_run_id and public.job_run_is_held(r, p_worker, p_attempt)
    returning 1)
  select exists (select 1 from updated)
$$;

-- The one write behind every transition that gives a held run back without
-- success: it releases the claim (locked_by and locked_until null), sets the
-- state the caller decided, keeps the last message in error_message and
-- appends one entry to errors: {at, attempt, kind, message, worker,
-- handled_by}. The message is cut to 2,000 characters so an upstream body
-- cannot bloat the row. p_status is 'queued' (due at p_run_after) or
-- 'failed'; p_give_back_attempt undoes the claim's increment, for a try that
-- did not count. Returns the run's new status, or null (and changes nothing)
-- when the caller no longer holds the run.
create function public.release_job_run(
  p_run_id bigint, p_worker text, p_attempt integer,
  p_status text, p_run_after timestamptz, p_give_back_attempt boolean,
  p_kind text, p_error text, p_handled_by text
) returns text
language sql volatile set search_path = ''
as $$
  update public.job_runs r
     set status = p_status,
         attempt = r.attempt - case when p_give_back_attempt then 1 else 0 end,
         run_after = coalesce(p_run_after, r.run_after),
         finished_at = case when p_status = 'failed' then now() end,
         locked_by = null,
         locked_until = null,
         handled_by = coalesce(p_handled_by, r.handled_by),
         error_message = left(p_error, 2000),
         errors = r.errors || jsonb_build_array(jsonb_build_object(
           'at', now(), 'attempt', r.attempt, 'kind', p_kind, 'message', left(p_error, 2000),
           'worker', p_worker, 'handled_by', p_handled_by)),
         updated_at = now()
   where r.id = p_run_id and public.job_run_is_held(r, p_worker, p_attempt)
  returning r.status
$$;

-- A retryable failure: the run goes back to the queue after
-- job_run_backoff(attempt), or fails for good once it has used max_attempts.
-- The final state is decided once, here. attempt cannot change under us: only
-- a claim increments it, and a claim needs the run queued, which it is not
-- while we hold it (if the sweeper requeued it meanwhile, the guard refuses).
create function public.retry_or_fail_job_run(
  p_run_id bigint, p_worker text, p_attempt integer, p_error text, p_handled_by text default null
) returns text
language sql volatile set search_path = ''
as $$
  select public.release_job_run(r.id, p_worker, p_attempt,
           case when r.attempt >= r.max_attempts then 'failed' else 'queued' end,
           now() + public.job_run_backoff(r.attempt), false, 'retryable', p_error, p_handled_by)
    from public.job_runs r
   where r.id = p_run_id
$$;

-- A permanent failure: trying again cannot help, so the run fails at once.
create function public.fail_job_run(
  p_run_id bigint, p_worker text, p_attempt integer, p_error text, p_handled_by text default null
) returns text
language sql volatile set search_path = ''
as $$
  select public.release_job_run(p_run_id, p_worker, p_attempt, 'failed', null, false, 'permanent', p_error, p_handled_by)
$$;

-- The upstream asked us to slow down: the run goes back to the queue after
-- p_retry_after_ms (15 s when the upstream gave no delay), plus up to 20%
-- jitter so deferred runs do not all return at once, and gets its attempt
-- back: waiting out a rate limit is not a failed try.
create function public.defer_rate_limited_job_run(
  p_run_id bigint, p_worker text, p_attempt integer, p_error text,
  p_retry_after_ms integer default null, p_handled_by text default null
) returns text
language sql volatile set search_path = ''
as $$
  select public.release_job_run(p_run_id, p_worker, p_attempt, 'queued',
           now() + make_interval(secs => coalesce(p_retry_after_ms, 15000) / 1000.0 * (1 + random() * 0.2)),
           true, 'rate_limited', p_error, p_handled_by)
$$;

-- A worker hands a held run back before its isolate is cut off (a wall-clock
-- or CPU budget about to run out, or the runtime's beforeunload). Not a
-- failure: the checkpoint stays, the lease is freed at once, and the attempt
-- is given back. A run that stored a page since it was claimed is due now,
-- so the next tick claims it and it resumes where it stopped. One that stored
-- nothing (it reached an isolate with no budget left) waits a second, so it
-- is claimed again once a fresher isolate serves; past p_max_idle_handbacks in a row a hand-back counts as a
-- failed attempt with backoff, so a run that never progresses ends failed
-- after max_attempts such attempts instead of looping. The reason is
-- recorded in errors (kind 'handed_back').
create function public.hand_back_job_run(
  p_run_id bigint, p_worker text, p_attempt integer, p_reason text,
  p_handled_by text default null, p_max_idle_handbacks integer default 10
) returns text
language plpgsql volatile set search_path = ''
as $$
declare
  v_run public.job_runs;
  v_progressed boolean;
  v_free boolean;
  v_status text;
begin
  -- Locked so the idle count and the release below read and write one row state.
  select * into v_run from public.job_runs r
   where r.id = p_run_id and public.job_run_is_held(r, p_worker, p_attempt)
     for update;
  if not found then
    return null;
  end if;
  v_progressed := v_run.pages_fetched > v_run.pages_at_claim;
  v_free := v_progressed or v_run.idle_handbacks < p_max_idle_handbacks;
  v_status := public.release_job_run(v_run.id, p_worker, p_attempt,
    case when v_free or v_run.attempt < v_run.max_attempts then 'queued' else 'failed' end,
    case when v_progressed then now()
         when v_free then now() + interval '1 second'
         else now() + public.job_run_backoff(v_run.attempt) end,
    v_free, 'handed_back', p_reason, p_handled_by);
  update public.job_runs r
     set idle_handbacks = case when v_progressed then 0 else r.idle_handbacks + 1 end
   where r.id = v_run.id;
  return v_status;
end
$$;

-- Runs whose lease ran out (a killed or timed-out worker) go back to queued, or
-- to failed when they have used every attempt. Skips rows another session is
-- transitioning right now. Returns how many runs it requeued or failed.
create function public.requeue_expired_job_runs() returns integer
language sql volatile set search_path = ''
as $$
  with expired as (
    update public.job_runs r
       set status = case when r.attempt >= r.max_attempts then 'failed' else 'queued' end,
           finished_at = case when r.attempt >= r.max_attempts then now() else null end,
           run_after = now(),
           error_message = 'lease expired (holder ' || r.locked_by || ', attempt ' || r.attempt || ')',
           errors = r.errors || jsonb_build_array(jsonb_build_object(
             'at', now(), 'attempt', r.attempt, 'kind', 'lease_expired',
             'message', 'lease expired', 'worker', r.locked_by)),
           locked_by = null,
           locked_until = null,
           updated_at = now()
     where r.id = any(array(
             select q.id from public.job_runs q
              where q.status = 'running' and q.locked_until < now()
                for update of q skip locked))
    returning 1)
  select count(*)::integer from expired
$$;
