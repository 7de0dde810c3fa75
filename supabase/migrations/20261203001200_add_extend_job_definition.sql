-- Extending a definition: a wider range, with slices queued only over what
-- the definition's slices do not cover yet.

-- Grows a definition's range to [p_range_start, p_range_end) (null keeps a
-- bound) and queues slices over only the part not covered before: the
-- extension before the old start and the one after the old end. Refused, with
-- nothing written, when it would shrink the range, move a followed
-- definition's end (its catch-up does), or overlap another definition of the
-- same kind, name, timeframe, feed and adjustment. Returns the slices added.
create function public.extend_job_definition(
  p_def_id bigint,
  p_range_start timestamptz default null,
  p_range_end timestamptz default null
) returns integer
language plpgsql volatile set search_path = ''
as $$
declare
  v_def public.job_definitions;
  v_start timestamptz;
  v_end timestamptz;
  v_other bigint;
  v_added integer;
begin
  select * into v_def from public.job_definitions d where d.id = p_def_id;
  if v_def.id is null then
    raise exception 'no definition with id %', p_def_id using errcode = 'P0002';
  end if;
  perform public.lock_definition_key(v_def);
  select * into v_def from public.job_definitions d where d.id = p_def_id for update;
  v_start := coalesce(p_range_start, v_def.range_start);
  v_end := coalesce(p_range_end, v_def.range_end);

  if p_range_end is not null and v_def.follow then
    raise exception 'definition % is followed: its end moves with each catch-up; extend only its start', p_def_id
      using errcode = '22023';
  end if;
  if v_start > v_def.range_start then
    raise exception 'the new start % is after definition %''s start %: extend only grows a range (it never drops slices)',
      v_start, p_def_id, v_def.range_start
      using errcode = '22023';
  end if;
  if v_end < v_def.range_end then
    raise exception 'the new end % is before definition %''s end %: extend only grows a range (it never drops slices)',
      v_end, p_def_id, v_def.range_end
      using errcode = '22023';
  end if;
  v_other := coalesce(public.overlapping_definition(v_def, v_start, v_def.range_start),
                      public.overlapping_definition(v_def, v_def.range_end, v_end));
  if v_other is not null then
    raise exception 'definition % already covers part of [%, %) for % % %: extending definition % would fetch those bars twice',
      v_other, v_start, v_end, v_def.kind, v_def.symbol, v_def.timeframe, p_def_id
      using errcode = '23P01';
  end if;

  v_added := public.insert_slices(v_def, v_start, v_def.range_start)
           + public.insert_slices(v_def, v_def.range_end, v_end);
  if v_start <> v_def.range_start or v_end <> v_def.range_end then
    update public.job_definitions d set range_start = v_start, range_end = v_end, updated_at = now()
     where d.id = p_def_id;
  end if;
  return v_added;
end
$$;

revoke execute on function public.extend_job_definition(bigint, timestamptz, timestamptz) from public, anon, authenticated;
grant execute on function public.extend_job_definition(bigint, timestamptz, timestamptz) to service_role;
