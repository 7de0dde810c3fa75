-- Job definitions: what to backfill. `kind` is stored and constrained, never
-- inferred from the length of `symbols_array`: a batch of one symbol is still a
-- batch, and a single-symbol definition whose symbol is a basket name such as
-- US_BATCH_1 is refused here, at insert, with the name of the broken rule.

-- A ticker: upper-case letters with an optional class suffix (BRK.B).
create function public.is_ticker(p_symbol text) returns boolean
language sql immutable strict parallel safe set search_path = ''
as $$ select p_symbol ~ '^[A-Z]{1,6}(\.[A-Z]{1,3})?$' $$;

-- Alpaca's timeframe grammar, canonical spellings only (the bars table keys on
-- the timeframe, so '1T' and '1Min' must not both exist).
create function public.is_alpaca_timeframe(p_timeframe text) returns boolean
language sql immutable strict parallel safe set search_path = ''
as $$
  select p_timeframe ~ '^([1-9]|[1-5][0-9])Min$'
      or p_timeframe ~ '^([1-9]|1[0-9]|2[0-3])Hour$'
      or p_timeframe in ('1Day', '1Week', '1Month', '2Month', '3Month', '4Month', '6Month', '12Month')
$$;

create function public.jsonb_all_tickers(p_symbols jsonb) returns boolean
language sql immutable strict parallel safe set search_path = ''
as $$
  select jsonb_typeof(p_symbols) = 'array'
     and not exists (
       select 1 from jsonb_array_elements(p_symbols) e
        where jsonb_typeof(e) <> 'string' or not public.is_ticker(e #>> '{}'))
$$;

create function public.jsonb_has_duplicates(p_symbols jsonb) returns boolean
language sql immutable strict parallel safe set search_path = ''
as $$
  select jsonb_typeof(p_symbols) = 'array'
     and (select count(*) <> count(distinct e) from jsonb_array_elements(p_symbols) e)
$$;

create table public.job_definitions (
  id             bigint generated always as identity primary key,
  kind           text not null,
  -- The ticker for a single; the basket's name (US_BATCH_1) for a batch.
  symbol         text not null,
  symbols_array  jsonb,
  timeframe      text not null default '1Min',
  feed           text not null default 'sip',
  adjustment     text not null default 'raw',
  range_start    timestamptz not null,
  range_end      timestamptz not null,
  priority       integer not null default 100,
  max_attempts   integer not null default 5,
  enabled        boolean not null default true,
  created_at     timestamptz not null default now(),
  updated_at     timestamptz not null default now(),

  constraint kind_is_single_or_batch check (kind in ('single', 'batch')),
  constraint single_symbol_is_a_ticker check (kind <> 'single' or public.is_ticker(symbol)),
  constraint single_has_no_symbols_array check (kind <> 'single' or symbols_array is null),
  constraint batch_name_is_a_name check (kind <> 'batch' or symbol ~ '^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$'),
  constraint batch_has_symbols_array check (kind <> 'batch' or symbols_array is not null),
  constraint batch_symbols_array_is_an_array check (kind <> 'batch' or jsonb_typeof(symbols_array) = 'array'),
  constraint batch_symbols_array_is_not_empty check (
    kind <> 'batch' or jsonb_typeof(symbols_array) <> 'array' or jsonb_array_length(symbols_array) > 0),
  constraint batch_symbols_are_tickers check (
    kind <> 'batch' or jsonb_typeof(symbols_array) <> 'array' or public.jsonb_all_tickers(symbols_array)),
  constraint batch_symbols_are_unique check (kind <> 'batch' or not public.jsonb_has_duplicates(symbols_array)),
  -- One request asks Alpaca for every symbol of a basket, and its request line
  -- must fit the 8 KiB that Alpaca's front end (nginx) accepts: 500 tickers of
  -- at most 10 characters, comma-separated and URL-encoded, leave room for the
  -- other parameters and a page token.
  constraint batch_fits_one_request check (
    kind <> 'batch' or jsonb_typeof(symbols_array) <> 'array' or jsonb_array_length(symbols_array) <= 500),
  constraint timeframe_is_alpaca_timeframe check (public.is_alpaca_timeframe(timeframe)),
  constraint feed_is_known check (feed in ('sip', 'iex', 'boats', 'otc')),
  constraint adjustment_is_known check (
    adjustment ~ '^(raw|split|dividend|spin-off|all)(,(raw|split|dividend|spin-off|all))*$'),
  constraint range_is_not_empty check (range_end > range_start),
  constraint max_attempts_is_positive check (max_attempts > 0),
  -- The planner finds an existing definition by this key, which makes it idempotent.
  constraint definition_is_unique unique (kind, symbol, timeframe, feed, adjustment, range_start, range_end)
);

comment on table public.job_definitions is
  'What to backfill. kind is explicit (single | batch); rules are named constraints.';
comment on column public.job_definitions.symbol is
  'single: the ticker. batch: the basket name (e.g. US_BATCH_1); the tickers are in symbols_array.';

-- The tickers a definition backfills, as a jsonb array of strings: a single's
-- symbol, a batch's symbols_array. The claim, the planner and the views all
-- read a definition's symbols through this function, so a kind is taught in
-- one place. A kind this function does not handle raises (22023) instead of
-- passing for a single: the constraint kind_is_single_or_batch and this
-- function change together.
create function public.job_definition_symbols(d public.job_definitions) returns jsonb
language plpgsql immutable strict parallel safe set search_path = ''
as $$
begin
  case d.kind
    when 'single' then return pg_catalog.jsonb_build_array(d.symbol);
    when 'batch' then return d.symbols_array;
    else raise exception 'job_definition_symbols: definition % has unknown kind %', d.id, d.kind
           using errcode = '22023';
  end case;
end
$$;
