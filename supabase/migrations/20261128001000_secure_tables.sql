-- Access: RLS on every table with no policies, and nothing granted to anon or
-- authenticated, so the Data API exposes nothing to publishable keys or users.
-- service_role (the secret key) and postgres operate. Grants are explicit
-- because new Supabase projects no longer auto-grant on new public tables.

alter table public.job_definitions enable row level security;
alter table public.job_runs enable row level security;
alter table public.bars enable row level security;
alter table public.rate_buckets enable row level security;

revoke all on public.job_definitions, public.job_runs, public.bars, public.rate_buckets from public, anon, authenticated;
revoke all on public.job_status_by_definition, public.job_recent_errors, public.job_batch_detection, public.job_progress
  from public, anon, authenticated;

grant select, insert, update, delete on public.job_definitions, public.job_runs, public.bars, public.rate_buckets
  to service_role;
grant select on public.job_status_by_definition, public.job_recent_errors, public.job_batch_detection, public.job_progress
  to service_role;
revoke all on all sequences in schema public from public, anon, authenticated;
grant usage, select on all sequences in schema public to service_role;

-- Functions are executable by PUBLIC by default: take that back.
revoke execute on all functions in schema public from public, anon, authenticated;
grant execute on all functions in schema public to service_role;

-- Supabase's default privileges grant new public tables, sequences and
-- functions to anon and authenticated; later migrations must not inherit that.
-- PUBLIC's EXECUTE on new functions is a database-wide default that no
-- schema-level rule removes, so every migration revokes its own functions
-- (the access test walks the catalog and fails on one that does not).
alter default privileges in schema public revoke execute on functions from anon, authenticated;
alter default privileges in schema public revoke all on tables from anon, authenticated;
alter default privileges in schema public revoke all on sequences from anon, authenticated;
