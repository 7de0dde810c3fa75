-- Per database (pg_event_trigger), so also in template1: hosted's event
-- triggers, owned by supabase_admin, so supautils runs them for every
-- non-superuser and for supabase_admin itself. Idempotent.
create or replace function extensions.grant_pg_cron_access() returns event_trigger
language plpgsql as $$
begin
  if exists (
    select from pg_event_trigger_ddl_commands() as ev
    join pg_extension as ext on ev.objid = ext.oid
    where ext.extname = 'pg_cron'
  ) then
    grant usage on schema cron to postgres with grant option;

    alter default privileges in schema cron grant all on tables to postgres with grant option;
    alter default privileges in schema cron grant all on functions to postgres with grant option;
    alter default privileges in schema cron grant all on sequences to postgres with grant option;

    alter default privileges for user supabase_admin in schema cron grant all
        on sequences to postgres with grant option;
    alter default privileges for user supabase_admin in schema cron grant all
        on tables to postgres with grant option;
    alter default privileges for user supabase_admin in schema cron grant all
        on functions to postgres with grant option;

    grant all privileges on all tables in schema cron to postgres with grant option;
    revoke all on table cron.job from postgres;
    grant select on table cron.job to postgres with grant option;
    revoke trigger on cron.job_run_details from postgres;
  end if;
end;
$$;
comment on function extensions.grant_pg_cron_access() is 'Grants access to pg_cron';

-- pg_net >= 0.12 grants its http functions to PUBLIC itself (security invoker);
-- hosted makes them SECURITY DEFINER only for the old versions listed below.
create or replace function extensions.grant_pg_net_access() returns event_trigger
language plpgsql as $$
begin
  if exists (
    select 1 from pg_event_trigger_ddl_commands() as ev
    join pg_extension as ext on ev.objid = ext.oid
    where ext.extname = 'pg_net'
  ) then
    if not exists (select 1 from pg_roles where rolname = 'supabase_functions_admin') then
      create user supabase_functions_admin noinherit createrole login noreplication;
    end if;

    grant usage on schema net to supabase_functions_admin, postgres, anon, authenticated, service_role;

    if exists (
      select from pg_extension
      where extname = 'pg_net'
        and extversion in ('0.2', '0.6', '0.7', '0.7.1', '0.8', '0.10.0', '0.11.0')
    ) then
      alter function net.http_get(url text, params jsonb, headers jsonb, timeout_milliseconds integer) security definer;
      alter function net.http_post(url text, body jsonb, params jsonb, headers jsonb, timeout_milliseconds integer) security definer;
      alter function net.http_get(url text, params jsonb, headers jsonb, timeout_milliseconds integer) set search_path = net;
      alter function net.http_post(url text, body jsonb, params jsonb, headers jsonb, timeout_milliseconds integer) set search_path = net;
      revoke all on function net.http_get(url text, params jsonb, headers jsonb, timeout_milliseconds integer) from public;
      revoke all on function net.http_post(url text, body jsonb, params jsonb, headers jsonb, timeout_milliseconds integer) from public;
      grant execute on function net.http_get(url text, params jsonb, headers jsonb, timeout_milliseconds integer) to supabase_functions_admin, postgres, anon, authenticated, service_role;
      grant execute on function net.http_post(url text, body jsonb, params jsonb, headers jsonb, timeout_milliseconds integer) to supabase_functions_admin, postgres, anon, authenticated, service_role;
    end if;
  end if;
end;
$$;
comment on function extensions.grant_pg_net_access() is 'Grants access to pg_net';

alter function extensions.grant_pg_cron_access() owner to supabase_admin;
alter function extensions.grant_pg_net_access() owner to supabase_admin;

do $$
begin
  if not exists (select from pg_event_trigger where evtname = 'issue_pg_cron_access') then
    create event trigger issue_pg_cron_access on ddl_command_end when tag in ('CREATE EXTENSION')
      execute function extensions.grant_pg_cron_access();
  end if;
  if not exists (select from pg_event_trigger where evtname = 'issue_pg_net_access') then
    create event trigger issue_pg_net_access on ddl_command_end when tag in ('CREATE EXTENSION')
      execute function extensions.grant_pg_net_access();
  end if;
end $$;
