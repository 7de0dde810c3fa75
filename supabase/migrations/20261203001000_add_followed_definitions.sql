-- Followed and extended definitions: a definition's range may grow after it
-- was planned, by its own catch-up (a followed, open-ended definition) or by an
-- operator's extension. Slices stay half-open [start, end) and are only ever
-- appended at the edges of the covered range, so a definition's slices keep
-- partitioning [range_start, range_end): no overlap, no hole.
--
-- The covered range moves, so the planner no longer finds a definition by its
-- exact range alone: a request that an existing definition of the same kind,
-- name, timeframe, feed and adjustment already covers (a followed one covers
-- everything from its start on) is that definition. Re-running the `create`
-- that made a definition therefore still creates nothing after the definition
-- was extended or caught up.

alter table public.job_definitions
  add column follow boolean not null default false,
  -- The bars per slice the planner aimed at; the slices appended later use it too.
  add column target_bars integer not null default 500000,
  -- The last catch-up that looked at this followed definition, and the `until` it was given.
  add column caught_up_at timestamptz,
  add column caught_up_until timestamptz,
  add constraint target_bars_is_positive check (target_bars > 0),
  add constraint only_followed_definitions_catch_up check (follow or (caught_up_at is null and caught_up_until is null));

-- One followed definition per kind, name, timeframe, feed and adjustment: two
-- would both grow to the present and fetch the same bars twice.
create unique index followed_definition_is_unique on public.job_definitions (kind, symbol, timeframe, feed, adjustment)
  where follow;

comment on column public.job_definitions.follow is
  'Open-ended: the scheduled catch-up (catch_up_followed_definitions) appends the sessions completed since range_end.';

-- How long after a bar Alpaca serves it to the free plan: SIP data of the last
-- 15 minutes is refused with 403 "subscription does not permit querying recent
-- SIP data"; IEX is served in real time. The other feeds are treated as SIP,
-- which only delays them.
create function public.feed_delay(p_feed text) returns interval
language sql immutable strict parallel safe set search_path = ''
as $$ select case when p_feed = 'iex' then interval '0' else interval '15 minutes' end $$;

-- The end of the covered range a catch-up may reach at p_until: New York
-- midnight after the last day whose extended-hours session (04:00-20:00 ET),
-- plus the feed's delay, had ended by p_until. The one place that decides what
-- "completed" means: a day without a session (a weekend, a holiday) simply has
-- no bars, and a half day closes earlier, so the rule is safe for every day;
-- switching it to a cached trading calendar changes only this function.
-- Wall-clock arithmetic on New York local time, so DST never shifts the 20:00 close.
create function public.last_completed_session_end(p_feed text, p_until timestamptz) returns timestamptz
language sql stable strict parallel safe set search_path = ''
as $$
  select ((((p_until - public.feed_delay(p_feed)) at time zone 'America/New_York') - interval '20 hours')::date + 1)::timestamp
         at time zone 'America/New_York'
$$;

-- Another definition of the same kind, name, timeframe, feed and adjustment
-- whose range meets [p_start, p_end), or null. A followed definition's range is
-- taken as open-ended: its catch-ups will reach everything after its start.
create function public.overlapping_definition(p_def public.job_definitions, p_start timestamptz, p_end timestamptz)
returns bigint
language sql stable parallel safe set search_path = ''
as $$
  select o.id from public.job_definitions o
   where o.id <> p_def.id and o.kind = p_def.kind and o.symbol = p_def.symbol and o.timeframe = p_def.timeframe
     and o.feed = p_def.feed and o.adjustment = p_def.adjustment
     and pg_catalog.tstzrange(o.range_start, case when o.follow then null else o.range_end end)
         operator(pg_catalog.&&) pg_catalog.tstzrange(p_start, p_end)
   order by o.id limit 1
$$;

-- Definitions that share a kind, name, timeframe, feed and adjustment change
-- their ranges one at a time: every function that grows a range, or checks
-- one against the others, holds this transaction lock first, so two of them
-- cannot each miss the other's new range.
create function public.lock_definition_key(p_def public.job_definitions) returns void
language sql volatile set search_path = ''
as $$
  select pg_catalog.pg_advisory_xact_lock(pg_catalog.hashtextextended(
    pg_catalog.concat_ws('|', 'job_definitions', p_def.kind, p_def.symbol, p_def.timeframe, p_def.feed, p_def.adjustment), 0))
$$;

-- Queues slices over [p_from, p_to) of a definition: whole 24-hour steps
-- (seconds, so DST cannot shift them) from p_from, the last one cut at p_to,
-- sized from the definition's symbols, timeframe and target_bars. Callers pass
-- only ranges the definition's slices do not cover yet.
create function public.insert_slices(p_def public.job_definitions, p_from timestamptz, p_to timestamptz)
returns integer
language plpgsql volatile set search_path = ''
as $$
declare
  v_days constant integer := public.slice_days_for(
    pg_catalog.jsonb_array_length(public.job_definition_symbols(p_def)), p_def.timeframe, p_def.target_bars);
  v_added integer;
begin
  if p_to <= p_from then
    return 0;
  end if;
  insert into public.job_runs (job_def_id, slice_start, slice_end, priority, max_attempts)
  select p_def.id, s.slice_start, least(s.slice_start + make_interval(secs => v_days * 86400), p_to),
         p_def.priority, p_def.max_attempts
    from pg_catalog.generate_series(p_from, p_to - interval '1 microsecond', make_interval(secs => v_days * 86400)) as s(slice_start)
  on conflict on constraint slice_is_unique do nothing;
  get diagnostics v_added = row_count;
  return v_added;
end
$$;

create or replace function public.plan_backfill(
  p_kind text,
  p_name text,
  p_symbols jsonb,
  p_timeframe text,
  p_range_start timestamptz,
  p_range_end timestamptz,
  p_feed text default 'sip',
  p_adjustment text default 'raw',
  p_priority integer default 100,
  p_max_attempts integer default 5,
  p_target_bars integer default 500000
) returns bigint
language plpgsql volatile set search_path = ''
as $$
declare
  v_symbols constant jsonb := case when p_kind = 'single' then null else p_symbols end;
  v_def public.job_definitions;
begin
  -- An existing definition with these symbols that covers the range (after an
  -- extension or a catch-up its range is wider than the one it was planned with).
  select * into v_def from public.job_definitions d
   where d.kind = p_kind and d.symbol = p_name and d.timeframe = p_timeframe and d.feed = p_feed
     and d.adjustment = p_adjustment and d.symbols_array is not distinct from v_symbols
     and d.range_start <= p_range_start and (d.follow or d.range_end >= p_range_end)
   order by d.id limit 1;

  if v_def.id is null then
    insert into public.job_definitions as d
           (kind, symbol, symbols_array, timeframe, feed, adjustment, range_start, range_end, priority, max_attempts,
            target_bars)
    values (p_kind, p_name, v_symbols, p_timeframe, p_feed, p_adjustment, p_range_start, p_range_end, p_priority,
            p_max_attempts, p_target_bars)
    on conflict on constraint definition_is_unique do nothing
    returning * into v_def;
  end if;

  if v_def.id is null then
    select * into v_def from public.job_definitions d
     where d.kind = p_kind and d.symbol = p_name and d.timeframe = p_timeframe and d.feed = p_feed
       and d.adjustment = p_adjustment and d.range_start = p_range_start and d.range_end = p_range_end;
    raise exception 'definition % (%) already exists with different symbols', v_def.id, p_name
      using errcode = '23505';
  end if;

  -- A definition is sliced once. Re-planning it (same key, maybe another
  -- p_target_bars) must not add a second, overlapping set of slices.
  if exists (select 1 from public.job_runs r where r.job_def_id = v_def.id) then
    return v_def.id;
  end if;
  perform public.insert_slices(v_def, v_def.range_start, v_def.range_end);
  return v_def.id;
end
$$;

revoke execute on function public.feed_delay(text), public.last_completed_session_end(text, timestamptz),
  public.overlapping_definition(public.job_definitions, timestamptz, timestamptz),
  public.lock_definition_key(public.job_definitions),
  public.insert_slices(public.job_definitions, timestamptz, timestamptz)
  from public, anon, authenticated;
grant execute on function public.feed_delay(text), public.last_completed_session_end(text, timestamptz),
  public.overlapping_definition(public.job_definitions, timestamptz, timestamptz),
  public.lock_definition_key(public.job_definitions),
  public.insert_slices(public.job_definitions, timestamptz, timestamptz)
  to service_role;
