-- The trading calendar, cached from Alpaca's GET /v2/calendar, and the asset
-- list the universe baskets and `jobs gaps` read.
--
-- market_calendar holds one row per session; market_calendar_ranges records
-- which New York days were refreshed. A day inside a recorded range without a
-- row is a day without a session; a day outside every range is unknown, and
-- readers fall back to the rule calendar (or, in SQL, answer null).
-- refresh_market_calendar() is the only writer: one range at a time, under an
-- advisory lock, so a range is replaced whole or not at all.

create table public.market_calendar (
  day date not null,
  regular_open timestamptz not null,
  regular_close timestamptz not null,
  session_open timestamptz not null,
  session_close timestamptz not null,
  -- A half day closes at 13:00 (regular) instead of 16:00: 3.5 hours, not 6.5.
  half_day boolean generated always as (regular_close - regular_open < interval '6 hours 30 minutes') stored,
  settlement_date date,
  source text not null,
  refreshed_at timestamptz not null default now(),
  constraint market_calendar_pk primary key (day),
  constraint calendar_source_is_known check (source in ('alpaca', 'rules')),
  constraint session_hours_are_ordered
    check (session_open <= regular_open and regular_open < regular_close and regular_close <= session_close),
  constraint session_is_on_its_day
    check ((session_open at time zone 'America/New_York')::date = day
       and ((session_close - interval '1 microsecond') at time zone 'America/New_York')::date = day)
);

create table public.market_calendar_ranges (
  id bigint generated always as identity,
  first_day date not null,
  last_day date not null,
  alpaca_sessions integer not null,
  rules_sessions integer not null,
  refreshed_at timestamptz not null default now(),
  constraint market_calendar_ranges_pk primary key (id),
  constraint calendar_range_is_ordered check (first_day <= last_day)
);
create index market_calendar_ranges_days on public.market_calendar_ranges (first_day, last_day);

-- Alpaca's asset list as last fetched (every status of a class), so `gaps`
-- can say a symbol is inactive without asking Alpaca again.
create table public.alpaca_assets (
  symbol text not null,
  name text not null,
  asset_class text not null,
  exchange text not null,
  status text not null,
  tradable boolean not null,
  refreshed_at timestamptz not null default now(),
  constraint alpaca_assets_pk primary key (symbol),
  constraint asset_status_is_known check (status in ('active', 'inactive'))
);

-- "HH:MM" or "HHMM" (Alpaca writes the regular session one way and the
-- extended session the other), New York wall clock on p_day, as an instant.
create function public.new_york_time_on(p_day date, p_hhmm text) returns timestamptz
language sql immutable strict parallel safe set search_path = ''
as $$
  select ((p_day::text || ' ' || substr(replace(p_hhmm, ':', ''), 1, 2) || ':' || substr(replace(p_hhmm, ':', ''), 3, 2))::timestamp)
         at time zone 'America/New_York'
$$;

-- True when every New York day of [p_first_day, p_last_day] lies in a refreshed range.
create function public.market_calendar_covers(p_first_day date, p_last_day date) returns boolean
language sql stable strict parallel safe set search_path = ''
as $$
  select not exists (
    select 1
      from generate_series(p_first_day, p_last_day, interval '1 day') as d(day)
     where not exists (select 1 from public.market_calendar_ranges r where d.day::date between r.first_day and r.last_day)
  )
$$;

-- Replaces the sessions of [p_first_day, p_last_day] with p_sessions, a JSON
-- array of Alpaca calendar rows ({date, open, close, session_open,
-- session_close, settlement_date}) each with a "source": 'alpaca' or 'rules'.
-- A row outside the range, a duplicate day or an unknown source is refused
-- and nothing is written. Returns the number of sessions stored.
create function public.refresh_market_calendar(p_first_day date, p_last_day date, p_sessions jsonb) returns integer
language plpgsql volatile set search_path = ''
as $$
declare
  v_outside text;
  v_count integer;
begin
  if p_first_day is null or p_last_day is null or p_last_day < p_first_day then
    raise exception 'calendar range % .. % is empty or inverted', p_first_day, p_last_day using errcode = '22023';
  end if;
  if jsonb_typeof(p_sessions) is distinct from 'array' then
    raise exception 'p_sessions must be a JSON array of calendar rows' using errcode = '22023';
  end if;
  select string_agg(s->>'date', ', ') into v_outside
    from jsonb_array_elements(p_sessions) s
   where (s->>'date')::date not between p_first_day and p_last_day;
  if v_outside is not null then
    raise exception 'calendar rows outside % .. %: %', p_first_day, p_last_day, v_outside using errcode = '22023';
  end if;

  -- Refreshes of overlapping ranges take turns; readers see the old range or the new one.
  perform pg_advisory_xact_lock(hashtext('public.market_calendar'));
  delete from public.market_calendar c where c.day between p_first_day and p_last_day;
  insert into public.market_calendar (day, regular_open, regular_close, session_open, session_close, settlement_date, source)
  select (s->>'date')::date,
         public.new_york_time_on((s->>'date')::date, s->>'open'),
         public.new_york_time_on((s->>'date')::date, s->>'close'),
         public.new_york_time_on((s->>'date')::date, s->>'session_open'),
         public.new_york_time_on((s->>'date')::date, s->>'session_close'),
         (s->>'settlement_date')::date,
         s->>'source'
    from jsonb_array_elements(p_sessions) s;
  get diagnostics v_count = row_count;

  insert into public.market_calendar_ranges (first_day, last_day, alpaca_sessions, rules_sessions)
  select p_first_day, p_last_day,
         count(*) filter (where s->>'source' = 'alpaca'), count(*) filter (where s->>'source' = 'rules')
    from jsonb_array_elements(p_sessions) s;
  return v_count;
end
$$;

comment on function public.refresh_market_calendar(date, date, jsonb) is
  'Replaces the cached sessions of a New York day range (atomic, serialized) and records the range as covered.';

-- The end (extended close) of the last session that has completed, with
-- p_delay added, at or before p_until: the point up to which a followed
-- definition can ask for bars. Null when the cache does not cover every day
-- from that session to p_until (a later session might be missing), or holds no
-- such session.
create function public.cached_session_end(p_until timestamptz, p_delay interval default interval '0')
returns timestamptz
language plpgsql stable set search_path = ''
as $$
declare
  v_until_day date := (p_until at time zone 'America/New_York')::date;
  v_session public.market_calendar;
begin
  if p_until is null or p_delay is null then
    return null;
  end if;
  if p_delay < interval '0' then
    raise exception 'p_delay must not be negative, got %', p_delay using errcode = '22023';
  end if;
  select * into v_session from public.market_calendar c
   where c.day <= v_until_day and c.session_close + p_delay <= p_until
   order by c.day desc limit 1;
  if v_session.day is null or not public.market_calendar_covers(v_session.day, v_until_day) then
    return null;
  end if;
  return v_session.session_close;
end
$$;

comment on function public.cached_session_end(timestamptz, interval) is
  'End of the last cached session completed (plus p_delay) at or before p_until; null where the cache does not cover it.';

-- Upserts Alpaca asset records ({symbol, name, class, exchange, status, tradable}).
create function public.save_alpaca_assets(p_assets jsonb) returns integer
language plpgsql volatile set search_path = ''
as $$
declare
  v_count integer;
begin
  insert into public.alpaca_assets as a (symbol, name, asset_class, exchange, status, tradable, refreshed_at)
  select x->>'symbol', x->>'name', x->>'class', x->>'exchange', x->>'status', (x->>'tradable')::boolean, now()
    from jsonb_array_elements(p_assets) x
  on conflict on constraint alpaca_assets_pk do update
     set name = excluded.name, asset_class = excluded.asset_class, exchange = excluded.exchange,
         status = excluded.status, tradable = excluded.tradable, refreshed_at = excluded.refreshed_at;
  get diagnostics v_count = row_count;
  return v_count;
end
$$;

alter table public.market_calendar enable row level security;
alter table public.market_calendar_ranges enable row level security;
alter table public.alpaca_assets enable row level security;
revoke all on public.market_calendar, public.market_calendar_ranges, public.alpaca_assets from public, anon, authenticated;
grant select, insert, update, delete on public.market_calendar, public.market_calendar_ranges, public.alpaca_assets to service_role;
revoke all on sequence public.market_calendar_ranges_id_seq from public, anon, authenticated;
grant usage, select on sequence public.market_calendar_ranges_id_seq to service_role;
revoke execute on function public.new_york_time_on(date, text), public.market_calendar_covers(date, date),
  public.refresh_market_calendar(date, date, jsonb), public.cached_session_end(timestamptz, interval),
  public.save_alpaca_assets(jsonb) from public, anon, authenticated;
grant execute on function public.new_york_time_on(date, text), public.market_calendar_covers(date, date),
  public.refresh_market_calendar(date, date, jsonb), public.cached_session_end(timestamptz, interval),
  public.save_alpaca_assets(jsonb) to service_role;
