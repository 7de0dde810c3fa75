-- Operator actions, as SQL functions so the CLI, Studio and psql share them.

-- Cancels a definition's queued and running runs and disables it. A running
-- worker's later complete/fail is refused, because the run is no longer running.
create function public.cancel_job_definition(p_def_id bigint) returns integer
language sql volatile set search_path = ''
as $$
  with disabled as (
    update public.job_definitions set enabled = false, updated_at = now() where id = p_def_id returning id
  ), cancelled as (
    update public.job_runs r
       set status = 'cancelled', finished_at = now(), locked_by = null, locked_until = null, updated_at = now()
     where r.job_def_id in (select id from disabled) and r.status in ('queued', 'running')
    returning 1)
  select count(*)::integer from cancelled
$$;

-- Puts failed (and optionally cancelled) runs back in the queue with fresh
-- attempts, keeping their checkpoints; re-enables their definitions.
create function public.retry_job_runs(p_def_id bigint default null, p_include_cancelled boolean default false)
returns integer
language sql volatile set search_path = ''
as $$
  with enabled as (
    update public.job_definitions d set enabled = true, updated_at = now()
     where (p_def_id is null or d.id = p_def_id)
       and exists (select 1 from public.job_runs r where r.job_def_id = d.id
                     and (r.status = 'failed' or (p_include_cancelled and r.status = 'cancelled')))
    returning d.id
  ), retried as (
    update public.job_runs r
       set status = 'queued', attempt = 0, run_after = now(), finished_at = null, updated_at = now()
     where (p_def_id is null or r.job_def_id = p_def_id)
       and (r.status = 'failed' or (p_include_cancelled and r.status = 'cancelled'))
    returning 1)
  select count(*)::integer from retried
$$;
