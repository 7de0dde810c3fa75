-- Every database setup.sh bootstraps (template1, hence every database created
-- later, and postgres): the schema extensions and the extensions a new hosted
-- project starts with. Idempotent. Run as supabase_admin.
create schema if not exists extensions;
alter schema extensions owner to postgres;
grant usage on schema public to postgres, anon, authenticated, service_role;
grant usage on schema extensions to postgres, anon, authenticated, service_role;
grant all on schema extensions to dashboard_user;

create extension if not exists "uuid-ossp" with schema extensions;
create extension if not exists pgcrypto with schema extensions;
create extension if not exists pg_stat_statements with schema extensions;
