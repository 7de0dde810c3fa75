-- Cluster-wide: the roles a hosted project has, with hosted's attributes,
-- memberships and settings (as a hosted PostgreSQL 15 project's pg_dumpall
-- shows them). supabase_admin is initdb's bootstrap superuser; postgres is
-- demoted. Idempotent. Run by setup.sh as supabase_admin.
do $$
declare r text;
begin
  foreach r in array array['postgres', 'anon', 'authenticated', 'service_role', 'authenticator',
                           'supabase_read_only_user', 'supabase_replication_admin', 'dashboard_user',
                           'supabase_functions_admin']
  loop
    if not exists (select from pg_catalog.pg_roles where rolname = r) then
      execute format('create role %I', r);
    end if;
  end loop;
end $$;

alter role supabase_admin with superuser createdb createrole replication bypassrls login;
alter role postgres with nosuperuser createdb createrole login replication bypassrls;
-- The API roles were created noinherit and later altered to inherit on hosted.
alter role anon with nologin inherit;
alter role authenticated with nologin inherit;
alter role service_role with nologin inherit bypassrls;
alter role authenticator with login noinherit;
alter role supabase_read_only_user with login bypassrls;
alter role supabase_replication_admin with login replication;
alter role dashboard_user with nosuperuser createdb createrole replication;
alter role supabase_functions_admin with noinherit createrole login noreplication;

grant anon, authenticated, service_role to authenticator;
grant pg_read_all_data to supabase_read_only_user;
-- postgres may SET ROLE to the API roles (the SQL editor's role switch, and
-- tests that probe what anon can do), reads settings and all data, and may
-- signal backends.
grant anon, authenticated, service_role to postgres;
grant pg_monitor, pg_read_all_data, pg_signal_backend to postgres;

alter role anon set statement_timeout = '3s';
alter role authenticated set statement_timeout = '8s';
alter role authenticator set statement_timeout = '8s';
alter role postgres set search_path = "$user", public, extensions;
alter role supabase_admin set search_path = "$user", public, auth, extensions;
