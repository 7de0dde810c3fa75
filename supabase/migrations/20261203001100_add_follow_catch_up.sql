-- Followed definitions: planned through the last completed session, then
-- kept current by the catch-up, which appends the sessions completed since.
-- The rule for "completed" is last_completed_session_end(); the slices are
-- appended by insert_slices() at the covered end (previous migration).

-- Plans a followed definition: [p_range_start, last_completed_session_end(feed, p_until))
-- sliced as plan_backfill does, marked to be caught up from then on. Running it
-- again finds the same followed definition and creates nothing. Refused, with
-- nothing written, when no session has completed since p_range_start, or when
-- another definition of the same symbols would overlap the open-ended range.
create function public.plan_followed_backfill(
  p_kind text,
  p_name text,
  p_symbols jsonb,
  p_timeframe text,
  p_range_start timestamptz,
  p_feed text default 'sip',
  p_adjustment text default 'raw',
  p_priority integer default 100,
  p_max_attempts integer default 5,
  p_target_bars integer default 500000,
  p_until timestamptz default now()
) returns bigint
language plpgsql volatile set search_path = ''
as $$
declare
  v_symbols constant jsonb := case when p_kind = 'single' then null else p_symbols end;
  v_end constant timestamptz := public.last_completed_session_end(p_feed, p_until);
  v_def public.job_definitions;
  -- The new definition's key, for the lock and the overlap check (id 0 is no definition).
  v_key public.job_definitions;
  v_other bigint;
begin
  v_key.id := 0; v_key.kind := p_kind; v_key.symbol := p_name; v_key.timeframe := p_timeframe;
  v_key.feed := p_feed; v_key.adjustment := p_adjustment;
  perform public.lock_definition_key(v_key);

  select * into v_def from public.job_definitions d
   where d.follow and d.kind = p_kind and d.symbol = p_name and d.timeframe = p_timeframe and d.feed = p_feed
     and d.adjustment = p_adjustment;
  if v_def.id is not null then
    if v_def.range_start <> p_range_start or v_def.symbols_array is distinct from v_symbols then
      raise exception 'definition % (%) is already followed, from % with % symbol(s); extend it (jobs extend --id %) instead',
        v_def.id, p_name, v_def.range_start, pg_catalog.jsonb_array_length(public.job_definition_symbols(v_def)), v_def.id
        using errcode = '23505';
    end if;
    return v_def.id;
  end if;

  if v_end <= p_range_start then
    raise exception 'nothing to follow yet: no session has completed between % and % (until %, % feed delay %)',
      p_range_start, v_end, p_until, p_feed, public.feed_delay(p_feed)
      using errcode = '22023';
  end if;
  v_other := public.overlapping_definition(v_key, p_range_start, null);
  if v_other is not null then
    raise exception 'definition % already covers part of % % from %: a followed definition would fetch its bars again; extend definition % instead',
      v_other, p_kind, p_name, p_range_start, v_other
      using errcode = '23P01';
  end if;

  insert into public.job_definitions
         (kind, symbol, symbols_array, timeframe, feed, adjustment, range_start, range_end, priority, max_attempts,
          target_bars, follow, caught_up_at, caught_up_until)
  values (p_kind, p_name, v_symbols, p_timeframe, p_feed, p_adjustment, p_range_start, v_end, p_priority,
          p_max_attempts, p_target_bars, true, now(), p_until)
  returning * into v_def;
  perform public.insert_slices(v_def, v_def.range_start, v_def.range_end);
  return v_def.id;
end
$$;

-- The catch-up: for every enabled followed definition (or only p_def_id),
-- appends the slices over [range_end, last_completed_session_end(feed, p_until))
-- and moves range_end there, in one transaction per call. The definition row
-- is locked first, so two catch-ups at once serialize and the second finds the
-- range already covered: running it twice adds nothing, and since the new
-- slices start exactly at the old end, they never overlap and leave no hole.
-- An p_until earlier than the sessions a definition already covers is refused
-- (nothing is written); a definition whose next range another definition of
-- the same symbols already holds is left where it is and reported.
create function public.catch_up_followed_definitions(p_until timestamptz default now(), p_def_id bigint default null)
returns table (job_def_id bigint, covered_from timestamptz, covered_to timestamptz, slices_added integer, note text)
language plpgsql volatile set search_path = ''
as $$
declare
  v_def public.job_definitions;
  v_end timestamptz;
  v_other bigint;
begin
  if p_until is null then
    raise exception 'catch_up_followed_definitions: p_until must not be null' using errcode = '22004';
  end if;
  if p_def_id is not null and not exists (select 1 from public.job_definitions d where d.id = p_def_id and d.follow) then
    raise exception 'definition % does not exist or is not followed', p_def_id using errcode = '22023';
  end if;
  for v_def in
    select * from public.job_definitions d
     where d.follow and d.enabled and (p_def_id is null or d.id = p_def_id)
     order by d.id
  loop
    perform public.lock_definition_key(v_def);
    select * into v_def from public.job_definitions d where d.id = v_def.id for update;
    v_end := public.last_completed_session_end(v_def.feed, p_until);
    job_def_id := v_def.id;
    covered_from := v_def.range_end;
    covered_to := v_def.range_end;
    slices_added := 0;
    note := null;
    if v_end < v_def.range_end then
      raise exception 'until % is before the sessions definition % already covers (through %): a catch-up only moves forward',
        p_until, v_def.id, v_def.range_end
        using errcode = '22023';
    end if;
    v_other := public.overlapping_definition(v_def, v_def.range_end, v_end);
    if v_end = v_def.range_end then
      note := 'up to date';
    elsif v_other is not null then
      note := pg_catalog.format('blocked: definition %s already covers part of [%s, %s)', v_other, v_def.range_end, v_end);
    else
      slices_added := public.insert_slices(v_def, v_def.range_end, v_end);
      update public.job_definitions d set range_end = v_end, updated_at = now() where d.id = v_def.id;
      covered_to := v_end;
    end if;
    update public.job_definitions d set caught_up_at = now(), caught_up_until = p_until where d.id = v_def.id;
    return next;
  end loop;
end
$$;

-- job_follow_status, how current each followed definition is, is created after
-- the cached trading calendar, whose sessions it counts.

revoke execute on function public.plan_followed_backfill(text, text, jsonb, text, timestamptz, text, text, integer, integer, integer, timestamptz),
  public.catch_up_followed_definitions(timestamptz, bigint)
  from public, anon, authenticated;
grant execute on function public.plan_followed_backfill(text, text, jsonb, text, timestamptz, text, text, integer, integer, integer, timestamptz),
  public.catch_up_followed_definitions(timestamptz, bigint)
  to service_role;
