-- The planner: creates (or finds) a definition and its slices. A slice is
-- sized from the expected bar count (symbols x bars per trading day for the
-- timeframe, an upper bound) to about 50 pages of 10,000 bars (500,000 bars).
-- Every slice ends with one partial page, so the fewer the slices, the closer
-- a backfill gets to the bound of one request per 10,000 bars (the seed month:
-- 88 requests against a bound of 86). A slice need not fit one Edge Function
-- call: a worker hands its run back, checkpoint kept, before an isolate's CPU
-- or wall-clock limit, and the run resumes in a fresh isolate
-- (hand_back_job_run); 50 pages are about 1.3 s of CPU, one or two isolates.
-- A big backfill is still thousands of slices for parallel isolates.
-- Running it twice with the same arguments creates nothing new.

-- Upper bound of bars per symbol per trading day (04:00-20:00 ET = 960 minutes).
create function public.expected_bars_per_trading_day(p_timeframe text) returns numeric
language sql immutable strict parallel safe set search_path = ''
as $$
  select case
    when p_timeframe ~ 'Min$' then 960.0 / substring(p_timeframe from '^\d+')::numeric
    when p_timeframe ~ 'Hour$' then ceil(24.0 / substring(p_timeframe from '^\d+')::numeric)
    when p_timeframe = '1Day' then 1.0
    when p_timeframe = '1Week' then 0.2
    else 0.05
  end
$$;

-- Slice length in whole UTC days for a basket of p_symbols at p_timeframe.
create function public.slice_days_for(p_symbols integer, p_timeframe text, p_target_bars integer default 500000)
returns integer
language sql immutable strict parallel safe set search_path = ''
as $$
  -- 5 trading days in 7 calendar days; at least one day, at most ten years.
  select least(3650, greatest(1, round(
    p_target_bars / (greatest(p_symbols, 1) * public.expected_bars_per_trading_day(p_timeframe) * 5.0 / 7.0))))::integer
$$;

create function public.plan_backfill(
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
  v_def public.job_definitions;
  v_days integer;
begin
  insert into public.job_definitions as d
         (kind, symbol, symbols_array, timeframe, feed, adjustment, range_start, range_end, priority, max_attempts)
  values (p_kind, p_name, case when p_kind = 'single' then null else p_symbols end,
          p_timeframe, p_feed, p_adjustment, p_range_start, p_range_end, p_priority, p_max_attempts)
  on conflict on constraint definition_is_unique do nothing
  returning * into v_def;

  if v_def.id is null then
    select * into v_def from public.job_definitions d
     where d.kind = p_kind and d.symbol = p_name and d.timeframe = p_timeframe and d.feed = p_feed
       and d.adjustment = p_adjustment and d.range_start = p_range_start and d.range_end = p_range_end;
    if v_def.symbols_array is distinct from (case when p_kind = 'single' then null else p_symbols end) then
      raise exception 'definition % (%) already exists with different symbols', v_def.id, p_name
        using errcode = '23505';
    end if;
  end if;

  -- A definition is sliced once. Re-planning it (same key, maybe another
  -- p_target_bars) must not add a second, overlapping set of slices.
  if exists (select 1 from public.job_runs r where r.job_def_id = v_def.id) then
    return v_def.id;
  end if;

  v_days := public.slice_days_for(
    jsonb_array_length(public.job_definition_symbols(v_def)), v_def.timeframe, p_target_bars);

  -- Slices are half-open [start, end) of whole 24-hour steps (seconds, so DST
  -- in the session time zone cannot shift them): they partition the range, so no bar is
  -- fetched by two slices and none falls between them.
  insert into public.job_runs (job_def_id, slice_start, slice_end, priority, max_attempts)
  select v_def.id, s.slice_start, least(s.slice_start + make_interval(secs => v_days * 86400), v_def.range_end),
         v_def.priority, v_def.max_attempts
    from generate_series(v_def.range_start, v_def.range_end - interval '1 microsecond',
                         make_interval(secs => v_days * 86400)) as s(slice_start)
  on conflict on constraint slice_is_unique do nothing;

  return v_def.id;
end
$$;
