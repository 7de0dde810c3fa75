-- A followed definition's catch-up reads the cached trading calendar where it
-- covers the days, and falls back to the rule (20:00 New York plus the feed's
-- delay) elsewhere. The later of the two ends is taken: each alone is safe (a
-- day the rule counts complete has ended its extended hours; a cached session
-- that has closed, half days at 17:00 included, has all its bars), so their
-- maximum is safe too. Taking the maximum also keeps the answer from moving
-- backwards when a calendar refresh lands between two catch-ups, which
-- catch_up_followed_definitions would refuse as an `until` before what is
-- already covered.
create or replace function public.last_completed_session_end(p_feed text, p_until timestamptz) returns timestamptz
language sql stable strict parallel safe set search_path = ''
as $$
  select greatest(
    -- The rule: New York midnight after the last day whose 20:00 close plus the delay has passed.
    ((((p_until - public.feed_delay(p_feed)) at time zone 'America/New_York') - interval '20 hours')::date + 1)::timestamp
      at time zone 'America/New_York',
    -- The cache: New York midnight after the last cached session completed plus the delay (null where not covered).
    (((public.cached_session_end(p_until, public.feed_delay(p_feed)) at time zone 'America/New_York')::date + 1)::timestamp
      at time zone 'America/New_York'))
$$;

comment on function public.last_completed_session_end(text, timestamptz) is
  'Where a followed definition may be covered to at p_until: New York midnight after the last completed session (cached calendar, else 20:00 New York), plus the feed delay.';

-- How current each followed definition is: the sessions between the covered
-- end and what has completed by now, counted from the cached calendar where it
-- covers a day and as weekdays where it does not.
create view public.job_follow_status with (security_invoker = true) as
select d.id as job_def_id, d.kind, d.symbol, d.timeframe, d.feed, d.range_start,
       d.range_end as covered_to,
       (d.range_end at time zone 'America/New_York')::date - 1 as covered_through_day,
       d.caught_up_at, d.caught_up_until,
       public.last_completed_session_end(d.feed, now()) as completed_to,
       (select count(*) from pg_catalog.generate_series(
                  (d.range_end at time zone 'America/New_York')::date::timestamp,
                  ((public.last_completed_session_end(d.feed, now()) at time zone 'America/New_York')::date - 1)::timestamp,
                  interval '1 day') as g(day)
         where case when public.market_calendar_covers(g.day::date, g.day::date)
                    then exists (select 1 from public.market_calendar c where c.day = g.day::date)
                    else extract(isodow from g.day) < 6 end)::integer as days_behind,
       d.enabled
  from public.job_definitions d
 where d.follow;

revoke all on public.job_follow_status from public, anon, authenticated;
grant select on public.job_follow_status to service_role;
