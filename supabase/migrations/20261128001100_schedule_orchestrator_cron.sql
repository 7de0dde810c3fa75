-- Schedules, with pg_cron, the orchestrator tick (pg_net -> the `orchestrator`
-- Edge Function) and the lease sweeper (requeue_expired_job_runs()).
--
-- One migration for every database this project meets:
-- - hosted Supabase: pg_cron, pg_net and Vault exist; both jobs are scheduled.
--   The tick reads the project URL and secret key from Vault *when it runs*
--   (secrets `project_url` and `orchestrator_secret_key`), so no secret is ever
--   written into cron.job, and rotating a key needs no new migration.
-- - Postgres with pg_cron but no pg_net or Vault (CI's Postgres 15): only the
--   sweeper is scheduled, and the function says what it skipped and why.
-- - plain Postgres (the embedded test server): nothing is scheduled; the
--   function says so. The project ticks with its own scheduler there.
-- Extensions are created only where they can load (available AND preloaded,
-- and for pg_cron only in cron.database_name), so this never fails for their absence.

-- pg_cron and pg_net both start background workers: loadable only through
-- shared_preload_libraries. A setting this role may not read counts as unknown,
-- and the attempt is then guarded by an exception handler.
do $$
declare
  v_preload text := (select s.setting from pg_catalog.pg_settings s where s.name = 'shared_preload_libraries');
  v_libs text[] := pg_catalog.string_to_array(pg_catalog.replace(coalesce(v_preload, ''), ' ', ''), ',');
  v_cron_db text := (select s.setting from pg_catalog.pg_settings s where s.name = 'cron.database_name');
begin
  if exists (select 1 from pg_catalog.pg_available_extensions where name = 'pg_cron')
     and ('pg_cron' = any (v_libs) or (v_preload is null and v_cron_db is not null))
     and pg_catalog.current_database() = coalesce(v_cron_db, 'postgres')
  then
    begin
      -- pg_catalog, as on Supabase: pg_cron 1.4's control file names no schema,
      -- so it would otherwise land in public and go with any drop of public.
      create extension if not exists pg_cron with schema pg_catalog;
    exception when others then
      raise notice 'pg_cron not created: %', sqlerrm;
    end;
  end if;

  if exists (select 1 from pg_catalog.pg_available_extensions where name = 'pg_net')
     and ('pg_net' = any (v_libs) or v_preload is null)
  then
    begin
      create schema if not exists extensions;
      create extension if not exists pg_net with schema extensions;
    exception when others then
      raise notice 'pg_net not created: %', sqlerrm;
    end;
  end if;
end
$$;

-- Idempotent: cron.schedule upserts by job name, so calling this again only
-- updates the two jobs. Returns one line per job: what it scheduled or skipped.
--
-- Not security definer: pg_cron records the calling role as the job's owner
-- and runs the job as that role, so the caller (the migration's `postgres`, or
-- an operator) must itself be able to use pg_cron, pg_net and Vault. A definer
-- function would let any role holding EXECUTE create jobs with its owner's rights.
create function public.setup_orchestrator_cron(
  p_tick_schedule text default '* * * * *',
  p_requeue_schedule text default '* * * * *',
  p_timeout_ms integer default 10000
) returns text[]
language plpgsql volatile set search_path = ''
as $fn$
declare
  v_done text[] := '{}';
  v_missing text[] := '{}';
  v_line text;
  v_job bigint;
  -- Secrets are read inside the command at run time, never substituted here.
  -- An `apikey` header carries the secret key (sb_secret_…); a legacy JWT key
  -- (service_role, eyJ…) is also sent as a Bearer token for verify_jwt gateways.
  v_tick_command constant text := pg_catalog.format($cmd$
select net.http_post(
  url := (select s.decrypted_secret from vault.decrypted_secrets s where s.name = 'project_url')
         || '/functions/v1/orchestrator',
  body := jsonb_build_object('tick', now()),
  headers := (
    select jsonb_build_object('Content-Type', 'application/json', 'apikey', s.decrypted_secret)
           || case when s.decrypted_secret like 'eyJ%%'
                   then jsonb_build_object('Authorization', 'Bearer ' || s.decrypted_secret)
                   else '{}'::jsonb end
      from vault.decrypted_secrets s where s.name = 'orchestrator_secret_key'),
  timeout_milliseconds := %s
) as request_id
$cmd$, p_timeout_ms);
  v_requeue_command constant text := 'select public.requeue_expired_job_runs()';
begin
  if p_timeout_ms is null or p_timeout_ms <= 0 then
    raise exception 'p_timeout_ms must be a positive number of milliseconds, got %', p_timeout_ms;
  end if;

  if pg_catalog.to_regnamespace('cron') is null
     or pg_catalog.to_regprocedure('cron.schedule(text, text, text)') is null then
    v_line := 'pg_cron is not installed in this database: scheduled nothing '
              || '(bars-orchestrator-tick and bars-requeue-expired skipped)';
    raise notice '%', v_line;
    return array[v_line];
  end if;

  v_job := cron.schedule('bars-requeue-expired', p_requeue_schedule, v_requeue_command);
  v_done := v_done || pg_catalog.format('scheduled bars-requeue-expired (job %s, %s): %s',
                                        v_job, p_requeue_schedule, v_requeue_command);

  if pg_catalog.to_regprocedure('net.http_post(text, jsonb, jsonb, jsonb, integer)') is null then
    v_missing := v_missing || 'pg_net is not installed (no net.http_post)'::text;
  end if;
  if pg_catalog.to_regclass('vault.decrypted_secrets') is null then
    v_missing := v_missing || 'Vault is not installed (no vault.decrypted_secrets)'::text;
  end if;

  if pg_catalog.cardinality(v_missing) > 0 then
    v_line := 'skipped bars-orchestrator-tick: ' || pg_catalog.array_to_string(v_missing, '; ');
    raise notice '%', v_line;
    v_done := v_done || v_line;
  else
    v_job := cron.schedule('bars-orchestrator-tick', p_tick_schedule, v_tick_command);
    v_done := v_done || pg_catalog.format(
      'scheduled bars-orchestrator-tick (job %s, %s): POST <vault project_url>/functions/v1/orchestrator, timeout %s ms',
      v_job, p_tick_schedule, p_timeout_ms);
    -- The job is useful only once both secrets exist; say which are missing.
    begin
      select pg_catalog.array_agg(n.name order by n.name) into v_missing
        from pg_catalog.unnest(array['orchestrator_secret_key', 'project_url']) as n(name)
       where not exists (select 1 from vault.decrypted_secrets s
                          where s.name = n.name and s.decrypted_secret is not null);
      if v_missing is not null then
        v_line := 'warning: Vault secret(s) missing, the tick will fail until created: '
                  || pg_catalog.array_to_string(v_missing, ', ');
        raise notice '%', v_line;
        v_done := v_done || v_line;
      end if;
    exception when insufficient_privilege then
      v_done := v_done || 'warning: cannot read vault.decrypted_secrets as this role; the job runs as it'::text;
    end;
  end if;

  return v_done;
end
$fn$;

comment on function public.setup_orchestrator_cron(text, text, integer) is
  'Idempotently schedules pg_cron jobs bars-orchestrator-tick (pg_net POST to the orchestrator; URL and key '
  'read from Vault secrets project_url and orchestrator_secret_key at run time) and bars-requeue-expired. '
  'Schedules what this database supports and returns what it did and skipped.';

-- Removes both jobs (those owned by the calling role). Returns what it removed.
create function public.unschedule_orchestrator_cron() returns text[]
language plpgsql volatile set search_path = ''
as $fn$
declare
  v_done text[] := '{}';
  v_job record;
begin
  if pg_catalog.to_regclass('cron.job') is null then
    return array['pg_cron is not installed in this database: nothing to unschedule'];
  end if;
  for v_job in
    select j.jobid, j.jobname from cron.job j
     where j.jobname in ('bars-orchestrator-tick', 'bars-requeue-expired')
       and j.username = current_user
     order by j.jobname
  loop
    perform cron.unschedule(v_job.jobid);
    v_done := v_done || pg_catalog.format('unscheduled %s (job %s)', v_job.jobname, v_job.jobid);
  end loop;
  if pg_catalog.cardinality(v_done) = 0 then
    v_done := array['no orchestrator cron jobs were scheduled'];
  end if;
  return v_done;
end
$fn$;

comment on function public.unschedule_orchestrator_cron() is
  'Operators: removes the pg_cron jobs bars-orchestrator-tick and bars-requeue-expired.';

-- Operators and migrations only: never callable through the Data API.
revoke execute on function public.setup_orchestrator_cron(text, text, integer) from public, anon, authenticated, service_role;
revoke execute on function public.unschedule_orchestrator_cron() from public, anon, authenticated, service_role;

select public.setup_orchestrator_cron();
