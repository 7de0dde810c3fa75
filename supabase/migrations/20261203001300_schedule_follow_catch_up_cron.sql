-- Schedules, with pg_cron, the daily catch-up of followed definitions:
-- bars-follow-catch-up runs catch_up_followed_definitions(now()), which queues
-- the slices of the sessions completed since each followed definition's end;
-- the orchestrator tick then fetches them like any other slice.
--
-- When: pg_cron reads schedules in UTC (its default cron.timezone, and the
-- only one on hosted Supabase). A session is complete at its extended-hours
-- close, 20:00 New York, plus the feed's delay (SIP: 15 minutes on the free
-- plan), so 20:15 New York, which is 00:15 UTC in summer (EDT) and 01:15 UTC in
-- winter (EST). 01:30 UTC is after both: 21:30 EDT / 20:30 EST. Tuesday to
-- Saturday at 01:30 UTC follow Monday's to Friday's sessions; the weekend has
-- none, so Tuesday's run appends Saturday to Monday at once. A run that is
-- missed or late loses nothing: the next one covers every day since.

create function public.setup_follow_catch_up_cron(p_schedule text default '30 1 * * 2-6') returns text
language plpgsql volatile set search_path = ''
as $fn$
declare
  v_command constant text := 'select count(*) from public.catch_up_followed_definitions(now())';
  v_missing text[] := '{}';
  v_line text;
begin
  if pg_catalog.to_regprocedure('cron.schedule(text, text, text)') is null then
    v_missing := v_missing || 'pg_cron is not installed in this database'::text;
  elsif not pg_catalog.has_function_privilege('public.catch_up_followed_definitions(timestamptz, bigint)', 'execute') then
    v_missing := v_missing || pg_catalog.format(
      'role %s, which the job would run as, may not execute public.catch_up_followed_definitions(timestamptz, bigint)',
      current_user);
  end if;

  if pg_catalog.cardinality(v_missing) > 0 then
    v_line := 'skipped bars-follow-catch-up: ' || pg_catalog.array_to_string(v_missing, '; ');
  else
    v_line := pg_catalog.format('scheduled bars-follow-catch-up (job %s, %s): %s',
                                cron.schedule('bars-follow-catch-up', p_schedule, v_command), p_schedule, v_command);
  end if;
  raise notice '%', v_line;
  return v_line;
end
$fn$;

comment on function public.setup_follow_catch_up_cron(text) is
  'Idempotently schedules the pg_cron job bars-follow-catch-up (catch_up_followed_definitions(now()), daily at 01:30 UTC '
  'Tuesday to Saturday: after 20:15 New York in both EST and EDT), owned by and run as the calling role. Returns what '
  'it scheduled, or what it skipped and why.';

-- Operators, migrations and the job's owner only: never callable through the Data API.
revoke execute on function public.setup_follow_catch_up_cron(text) from public, anon, authenticated, service_role;

select public.setup_follow_catch_up_cron();
