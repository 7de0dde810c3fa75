-- Schedules, with pg_cron, two jobs, each with its own idempotent setup function:
-- - bars-requeue-expired, the lease sweeper (requeue_expired_job_runs());
-- - bars-orchestrator-tick, which POSTs to the `orchestrator` Edge Function
--   through pg_net, with the project URL and secret key read from Vault (secrets
--   `project_url` and `orchestrator_secret_key`) each time it runs, so no secret
--   is ever written into cron.job, and rotating a key needs no new migration.
-- Each setup function schedules its job where the database supports it and
-- otherwise returns, and raises as a notice, what it skipped and why. On plain
-- Postgres (the embedded test server) nothing is scheduled and the project
-- ticks with its own scheduler.
-- Longer than most files: the extension checks, the tick body and both jobs' setup functions belong to one migration; each part is commented where it starts.

-- pg_cron and pg_net start background workers, so both load only through
-- shared_preload_libraries (each refuses to load any other way), and pg_cron
-- can be created only in the database named by cron.database_name. An
-- extension is created when those conditions are known to hold; otherwise a
-- notice says which one is not created and why, and the setup functions below
-- skip what needs it. Once attempted, a failed creation fails the migration.
--
-- shared_preload_libraries and pg_cron's settings are superuser-only:
-- pg_settings hides them (no row, no error) from a role without
-- pg_read_all_settings (which pg_monitor includes), so "not readable" is its
-- own case, never read as "not preloaded". pg_net's settings are visible to
-- every role, and pg_settings never lists a placeholder, so a visible pg_net.*
-- setting proves pg_net was preloaded even when the list cannot be read.

-- Creates an extension whose preconditions were checked; a failure fails the
-- migration, naming the extension, why it was attempted and what to do.
-- A session-local helper (pg_temp): it exists only while this migration runs.
create function pg_temp.create_extension_explained(p_name text, p_schema text, p_why text) returns void
language plpgsql
as $$
declare
  v_state text;
  v_message text;
  v_hint text;
begin
  execute pg_catalog.format('create extension if not exists %I with schema %I', p_name, p_schema);
exception when others then
  get stacked diagnostics v_state = returned_sqlstate, v_message = message_text, v_hint = pg_exception_hint;
  raise exception 'creating extension % failed: %', p_name, v_message
    using errcode = v_state, detail = p_why,
          hint = coalesce(v_hint, pg_catalog.format(
            'Create it as a role allowed to (create extension %s with schema %s), then apply the migrations again.',
            p_name, p_schema));
end
$$;

do $$
declare
  v_preload text := (select s.setting from pg_catalog.pg_settings s where s.name = 'shared_preload_libraries');
  v_libs text[] := pg_catalog.string_to_array(pg_catalog.replace(v_preload, ' ', ''), ',');
  v_cron_db text := (select s.setting from pg_catalog.pg_settings s where s.name = 'cron.database_name');
  v_unreadable constant text := pg_catalog.format(
    'shared_preload_libraries is not readable by role %s (it needs pg_read_all_settings, e.g. through pg_monitor)',
    current_user);
begin
  if exists (select 1 from pg_catalog.pg_extension e where e.extname = 'pg_cron') then
    null;
  elsif not exists (select 1 from pg_catalog.pg_available_extensions a where a.name = 'pg_cron') then
    raise notice 'pg_cron not created: it is not available on this server';
  elsif v_preload is null then
    raise notice 'pg_cron not created: whether it is preloaded is unknown: %', v_unreadable;
  elsif not ('pg_cron' = any (v_libs)) then
    raise notice 'pg_cron not created: it is not in shared_preload_libraries (%)', v_preload;
  elsif v_cron_db is distinct from pg_catalog.current_database() then
    raise notice 'pg_cron not created: pg_cron runs only in database % (cron.database_name), this is %',
      coalesce(v_cron_db, '(unknown)'), pg_catalog.current_database();
  else
    -- pg_catalog, as on Supabase: pg_cron 1.4's control file names no schema,
    -- so it would otherwise land in public and go with any drop of public.
    perform pg_temp.create_extension_explained('pg_cron', 'pg_catalog',
      'pg_cron is available, preloaded and this is cron.database_name, so the migration creates it.');
  end if;

  if exists (select 1 from pg_catalog.pg_extension e where e.extname = 'pg_net') then
    null;
  elsif not exists (select 1 from pg_catalog.pg_available_extensions a where a.name = 'pg_net') then
    raise notice 'pg_net not created: it is not available on this server';
  elsif v_preload is not null and not ('pg_net' = any (v_libs)) then
    raise notice 'pg_net not created: it is not in shared_preload_libraries (%)', v_preload;
  elsif v_preload is null
        and not exists (select 1 from pg_catalog.pg_settings s where s.name like 'pg\_net.%') then
    raise notice 'pg_net not created: whether it is preloaded is unknown: %, and no pg_net setting is visible',
      v_unreadable;
  else
    create schema if not exists extensions;
    perform pg_temp.create_extension_explained('pg_net', 'extensions',
      'pg_net is available and preloaded, so the migration creates it (in schema extensions).');
  end if;
end
$$;

drop function pg_temp.create_extension_explained(text, text, text);

-- The tick's body. Reads both Vault secrets when it runs and POSTs to
-- <project_url>/functions/v1/orchestrator: the secret key in the `apikey`
-- header (sb_secret_…); a legacy JWT key (service_role, eyJ…) is also sent as a
-- Bearer token for verify_jwt gateways. When a secret is missing it raises,
-- naming it and how to create it, before anything is queued in pg_net, so
-- cron.job_run_details says what to fix. Error messages name secrets, never
-- their values, and the job's command holds neither.
--
-- Security invoker: pg_cron runs the job as the role that scheduled it, and
-- that role (postgres in the migration) reads Vault and calls pg_net with its
-- own rights. As definer, any role that could execute the function would send
-- requests authenticated by the secret key with the owner's rights; instead
-- EXECUTE is revoked from everyone but the owner.
create function public.post_orchestrator_tick(p_timeout_ms integer default 10000) returns bigint
language plpgsql volatile security invoker set search_path = ''
as $fn$
declare
  v_url text;
  v_key text;
  v_missing text[];
begin
  select nullif(s.decrypted_secret, '') into v_url from vault.decrypted_secrets s where s.name = 'project_url';
  select nullif(s.decrypted_secret, '') into v_key from vault.decrypted_secrets s where s.name = 'orchestrator_secret_key';
  v_missing := pg_catalog.array_remove(array[
    case when v_url is null then 'project_url' end,
    case when v_key is null then 'orchestrator_secret_key' end], null);
  if pg_catalog.cardinality(v_missing) > 0 then
    raise exception 'orchestrator tick not sent: Vault secret(s) missing: %; create them with %',
      pg_catalog.array_to_string(v_missing, ', '),
      (select pg_catalog.string_agg(pg_catalog.format('select vault.create_secret(%L, %L);',
                case n when 'project_url' then 'https://<project-ref>.supabase.co' else '<secret key>' end, n), ' ')
         from pg_catalog.unnest(v_missing) as n)
      using errcode = '55000';
  end if;

  return net.http_post(
    url := v_url || '/functions/v1/orchestrator',
    body := pg_catalog.jsonb_build_object('tick', pg_catalog.now()),
    headers := pg_catalog.jsonb_build_object('Content-Type', 'application/json', 'apikey', v_key)
               || case when v_key like 'eyJ%'
                       then pg_catalog.jsonb_build_object('Authorization', 'Bearer ' || v_key)
                       else '{}'::jsonb end,
    timeout_milliseconds := p_timeout_ms);
end
$fn$;

comment on function public.post_orchestrator_tick(integer) is
  'Body of the pg_cron job bars-orchestrator-tick: POSTs to <Vault project_url>/functions/v1/orchestrator '
  'with the Vault secret orchestrator_secret_key; raises, naming the secret, when one is missing.';

-- The setup functions below are idempotent: cron.schedule upserts by job name
-- for the calling role, so a second call only updates the job. Each returns
-- one line: what it scheduled, or what it skipped and why.
--
-- Not security definer: pg_cron records the calling role as the job's owner
-- and runs the job as that role, so the caller (the migration's `postgres`, or
-- an operator) must itself be able to use pg_cron, pg_net and Vault. A definer
-- function would let any role holding EXECUTE create jobs with its owner's rights.

create function public.setup_lease_sweeper_cron(p_schedule text default '* * * * *') returns text
language plpgsql volatile set search_path = ''
as $fn$
declare
  v_command constant text := 'select public.requeue_expired_job_runs()';
  v_missing text[] := '{}';
  v_line text;
begin
  if pg_catalog.to_regprocedure('cron.schedule(text, text, text)') is null then
    v_missing := v_missing || 'pg_cron is not installed in this database'::text;
  elsif not pg_catalog.has_function_privilege('public.requeue_expired_job_runs()', 'execute') then
    v_missing := v_missing || pg_catalog.format(
      'role %s, which the job would run as, may not execute public.requeue_expired_job_runs()', current_user);
  end if;

  if pg_catalog.cardinality(v_missing) > 0 then
    v_line := 'skipped bars-requeue-expired: ' || pg_catalog.array_to_string(v_missing, '; ');
  else
    v_line := pg_catalog.format('scheduled bars-requeue-expired (job %s, %s): %s',
                                cron.schedule('bars-requeue-expired', p_schedule, v_command), p_schedule, v_command);
  end if;
  raise notice '%', v_line;
  return v_line;
end
$fn$;

comment on function public.setup_lease_sweeper_cron(text) is
  'Idempotently schedules the pg_cron job bars-requeue-expired (select public.requeue_expired_job_runs()), '
  'owned by and run as the calling role. Returns what it scheduled, or what it skipped and why.';

create function public.setup_orchestrator_tick_cron(
  p_schedule text default '* * * * *',
  p_timeout_ms integer default 10000
) returns text
language plpgsql volatile set search_path = ''
as $fn$
declare
  v_command text;
  v_missing text[] := '{}';
  v_scheduled text;
begin
  if p_timeout_ms is null or p_timeout_ms <= 0 then
    raise exception 'p_timeout_ms must be a positive number of milliseconds, got %', p_timeout_ms
      using errcode = '22023';
  end if;
  v_command := pg_catalog.format('select public.post_orchestrator_tick(%s)', p_timeout_ms);

  if pg_catalog.to_regprocedure('cron.schedule(text, text, text)') is null then
    v_missing := v_missing || 'pg_cron is not installed in this database'::text;
  end if;
  if pg_catalog.to_regprocedure('net.http_post(text, jsonb, jsonb, jsonb, integer)') is null then
    v_missing := v_missing || 'pg_net is not installed (no net.http_post)'::text;
  end if;
  if pg_catalog.to_regclass('vault.decrypted_secrets') is null then
    v_missing := v_missing || 'Vault is not installed (no vault.decrypted_secrets)'::text;
  end if;
  if not pg_catalog.has_function_privilege('public.post_orchestrator_tick(integer)', 'execute') then
    v_missing := v_missing || pg_catalog.format(
      'role %s, which the job would run as, may not execute public.post_orchestrator_tick(integer)', current_user);
  end if;
  if pg_catalog.cardinality(v_missing) > 0 then
    v_scheduled := 'skipped bars-orchestrator-tick: ' || pg_catalog.array_to_string(v_missing, '; ');
    raise notice '%', v_scheduled;
    return v_scheduled;
  end if;

  v_scheduled := pg_catalog.format('scheduled bars-orchestrator-tick (job %s, %s): %s',
                                   cron.schedule('bars-orchestrator-tick', p_schedule, v_command), p_schedule, v_command);

  -- The job is scheduled either way, so it starts working as soon as the
  -- secrets exist; until then the caller gets a warning instead.
  begin
    select pg_catalog.array_agg(n.name order by n.name) into v_missing
      from pg_catalog.unnest(array['orchestrator_secret_key', 'project_url']) as n(name)
     where not exists (select 1 from vault.decrypted_secrets s
                        where s.name = n.name and nullif(s.decrypted_secret, '') is not null);
  exception when insufficient_privilege then
    v_scheduled := pg_catalog.format(
      'warning: %s, but role %s may not read vault.decrypted_secrets, and the job runs as it: every tick will fail',
      v_scheduled, current_user);
    raise notice '%', v_scheduled;
    return v_scheduled;
  end;
  if v_missing is not null then
    v_scheduled := pg_catalog.format(
      'warning: %s, but Vault secret(s) missing: %s; every tick fails until they exist '
      '(select vault.create_secret(''<value>'', ''<name>''))',
      v_scheduled, pg_catalog.array_to_string(v_missing, ', '));
  end if;
  raise notice '%', v_scheduled;
  return v_scheduled;
end
$fn$;

comment on function public.setup_orchestrator_tick_cron(text, integer) is
  'Idempotently schedules the pg_cron job bars-orchestrator-tick (select public.post_orchestrator_tick(p_timeout_ms)), '
  'owned by and run as the calling role; needs pg_cron, pg_net and Vault. Returns what it scheduled, or what it '
  'skipped and why; a line starting with "warning:" when the Vault secrets project_url or orchestrator_secret_key are missing.';

-- Removes the project's jobs owned by the calling role (pg_cron lets a role
-- unschedule only its own). Every job this project schedules is named
-- bars-<what>, so a new scheduled job is removed here without changing this
-- function. Returns one line per job removed.
create function public.unschedule_bars_cron_jobs() returns text[]
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
     where j.jobname like 'bars-%' and j.username = current_user
     order by j.jobname
  loop
    perform cron.unschedule(v_job.jobid);
    v_done := v_done || pg_catalog.format('unscheduled %s (job %s)', v_job.jobname, v_job.jobid);
  end loop;
  if pg_catalog.cardinality(v_done) = 0 then
    v_done := array['no bars cron jobs were scheduled by ' || current_user];
  end if;
  return v_done;
end
$fn$;

comment on function public.unschedule_bars_cron_jobs() is
  'Operators: removes the pg_cron jobs named bars-* (the tick, the lease sweeper, the follow catch-up) owned by the calling role.';

-- Operators, migrations and the job's owner only: never callable through the Data API.
revoke execute on function public.post_orchestrator_tick(integer) from public, anon, authenticated, service_role;
revoke execute on function public.setup_lease_sweeper_cron(text) from public, anon, authenticated, service_role;
revoke execute on function public.setup_orchestrator_tick_cron(text, integer) from public, anon, authenticated, service_role;
revoke execute on function public.unschedule_bars_cron_jobs() from public, anon, authenticated, service_role;

select public.setup_lease_sweeper_cron();
select public.setup_orchestrator_tick_cron();
