-- Job runs: one time slice [slice_start, slice_end) of one definition. Every
-- state change goes through the SQL functions of the next migrations; the
-- partial index below keeps claiming fast however many finished runs pile up.

create table public.job_runs (
  id             bigint generated always as identity primary key,
  job_def_id     bigint not null references public.job_definitions (id) on delete cascade,
  status         text not null default 'queued',
  slice_start    timestamptz not null,
  slice_end      timestamptz not null,
  -- Copied from the definition so the claim index can order by it.
  priority       integer not null default 100,
  -- Incremented at claim time, so a crashed worker still uses up an attempt.
  attempt        integer not null default 0,
  max_attempts   integer not null default 5,
  run_after      timestamptz not null default now(),
  -- The claim: who holds the run and until when. Both null unless running.
  locked_by      text,
  locked_until   timestamptz,
  -- Resume checkpoint: the Alpaca page token of the next page to fetch.
  page_token     text,
  pages_fetched  integer not null default 0,
  rows_written   bigint not null default 0,
  -- pages_fetched when the current attempt was claimed: a hand-back compares
  -- the two to tell a run that progressed from one that did not.
  pages_at_claim integer not null default 0,
  -- Hand-backs in a row that stored no page; bounds a run that never progresses.
  idle_handbacks integer not null default 0,
  -- The Edge Function that finished the last attempt (fetch-bars | fetch-bars-batch).
  handled_by     text,
  started_at     timestamptz,
  finished_at    timestamptz,
  error_message  text,
  -- One entry per failed attempt: {at, attempt, kind, message, worker}.
  errors         jsonb not null default '[]'::jsonb,
  created_at     timestamptz not null default now(),
  updated_at     timestamptz not null default now(),

  constraint status_is_known check (status in ('queued', 'running', 'success', 'failed', 'cancelled')),
  constraint slice_is_not_empty check (slice_end > slice_start),
  constraint attempt_is_not_negative check (attempt >= 0),
  constraint max_attempts_is_positive check (max_attempts > 0),
  constraint idle_handbacks_is_not_negative check (idle_handbacks >= 0),
  constraint running_has_a_lease check (status <> 'running' or (locked_by is not null and locked_until is not null)),
  constraint slice_is_unique unique (job_def_id, slice_start, slice_end)
);

-- The claim walks this index in exactly its order and stops after `limit` rows.
create index job_runs_claimable_idx on public.job_runs (priority, run_after, id) where status = 'queued';
-- requeue_expired_job_runs() scans only running runs.
create index job_runs_running_lease_idx on public.job_runs (locked_until) where status = 'running';
create index job_runs_def_status_idx on public.job_runs (job_def_id, status);
create index job_runs_finished_idx on public.job_runs (finished_at desc) where finished_at is not null;

comment on table public.job_runs is
  'One slice of one definition. States: queued -> running -> success | failed | cancelled (and back to queued on retry).';
