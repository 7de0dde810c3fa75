-- One Alpaca request budget for every worker of every function instance.
-- Alpaca limits requests per account (200/min on the free plan), while many
-- Edge Function isolates run at once, so the token bucket lives here: each
-- request takes a token under the bucket's row lock, which serialises takers.

create table public.rate_buckets (
  name        text primary key,
  tokens      double precision not null,
  capacity    double precision not null,
  per_minute  double precision not null,
  updated_at  timestamptz not null default clock_timestamp(),
  constraint capacity_is_positive check (capacity > 0),
  constraint per_minute_is_positive check (per_minute > 0)
);

-- Takes one token from bucket p_name (created full on first use). Returns 0
-- when a token was taken, else how many milliseconds to wait before asking
-- again. Refill is continuous: per_minute / 60,000 tokens per millisecond.
create function public.take_rate_token(p_name text, p_per_minute double precision, p_capacity double precision default null)
returns integer
language plpgsql volatile set search_path = ''
as $$
declare
  v_now timestamptz := clock_timestamp();
  v_capacity double precision := coalesce(p_capacity, p_per_minute);
  v_tokens double precision;
begin
  insert into public.rate_buckets as b (name, tokens, capacity, per_minute, updated_at)
  values (p_name, v_capacity, v_capacity, p_per_minute, v_now)
  on conflict (name) do update
     set tokens = least(excluded.capacity,
                        b.tokens + extract(epoch from (v_now - b.updated_at)) * 1000 * excluded.per_minute / 60000.0),
         capacity = excluded.capacity,
         per_minute = excluded.per_minute,
         updated_at = v_now
  returning tokens into v_tokens;

  if v_tokens >= 1 then
    update public.rate_buckets set tokens = tokens - 1 where name = p_name;
    return 0;
  end if;
  return ceil((1 - v_tokens) * 60000.0 / p_per_minute)::integer;
end
$$;
