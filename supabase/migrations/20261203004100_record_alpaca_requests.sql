-- What the backfill spent of Alpaca's budget, per minute: every request a
-- worker was allowed to make (a token taken from the shared bucket) and every
-- 429 Alpaca answered. take_rate_token already runs before each request under
-- the bucket's row lock, so counting there is exact and adds one upsert to a
-- row that only this lock holder writes. The report (`jobs report`) reads this
-- table; nothing else depends on it, and deleting old rows loses only history.

create table public.rate_bucket_minutes (
  bucket        text not null,
  minute        timestamptz not null,
  requests      integer not null default 0,
  rate_limited  integer not null default 0,
  -- The bucket's budget when the minute was written, so a chart can draw it.
  per_minute    double precision not null,
  constraint rate_bucket_minutes_pkey primary key (bucket, minute),
  constraint minute_is_whole check (minute = date_trunc('minute', minute)),
  constraint requests_is_not_negative check (requests >= 0),
  constraint rate_limited_is_not_negative check (rate_limited >= 0)
);

comment on table public.rate_bucket_minutes is
  'Per bucket and minute: requests allowed by take_rate_token and 429s noted by note_rate_limited.';

-- As before (20261128000700), plus: a granted token is counted in its minute.
create or replace function public.take_rate_token(p_name text, p_per_minute double precision, p_capacity double precision default null)
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
    -- Still under the bucket row's lock: takers of one bucket count one at a time.
    insert into public.rate_bucket_minutes as m (bucket, minute, requests, per_minute)
    values (p_name, date_trunc('minute', v_now), 1, p_per_minute)
    on conflict (bucket, minute) do update set requests = m.requests + 1, per_minute = excluded.per_minute;
    return 0;
  end if;
  return ceil((1 - v_tokens) * 60000.0 / p_per_minute)::integer;
end
$$;

-- A worker got a 429 for a request of bucket p_name: counted in this minute.
-- Whether the run waits in place or is deferred, the 429 is counted once here.
create function public.note_rate_limited(p_name text)
returns void
language sql volatile set search_path = ''
as $$
  insert into public.rate_bucket_minutes as m (bucket, minute, rate_limited, per_minute)
  select p_name, date_trunc('minute', clock_timestamp()), 1, coalesce(b.per_minute, 0)
    from (select 1) one left join public.rate_buckets b on b.name = p_name
  on conflict (bucket, minute) do update set rate_limited = m.rate_limited + 1
$$;

alter table public.rate_bucket_minutes enable row level security;
revoke all on public.rate_bucket_minutes from public, anon, authenticated;
grant select, insert, update, delete on public.rate_bucket_minutes to service_role;
revoke execute on function public.note_rate_limited(text) from public, anon, authenticated;
grant execute on function public.note_rate_limited(text) to service_role;
