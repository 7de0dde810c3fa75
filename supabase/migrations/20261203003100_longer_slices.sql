-- Longer slices: the planner aims at about 50 pages of 10,000 bars per slice
-- (500,000 bars) instead of 10. Every slice ends with one partial page, so the
-- fewer the slices, the closer a backfill gets to the bound of one request per
-- 10,000 bars (measured on the seed month, bench figure 1). A slice no longer
-- has to fit in one Edge Function call: a worker hands its run back, checkpoint
-- kept, before an isolate's CPU or wall-clock limit, and the run resumes in a
-- fresh isolate (hand_back_job_run). 50 pages cost about 1.3 s of CPU in Deno
-- at ~25 ms a page, so a slice spans one or two isolates. Longer slices still
-- leave many runs for parallel isolates wherever there is much to fetch (a
-- one-year backfill of 160 baskets is thousands of slices).
-- Only the defaults change: slice_days_for's here; plan_backfill's,
-- plan_followed_backfill's and job_definitions.target_bars' where those are
-- defined (the followed-definitions migrations), since every slice a definition
-- gets later is sized from its stored target_bars.

create or replace function public.slice_days_for(p_symbols integer, p_timeframe text, p_target_bars integer default 500000)
returns integer
language sql immutable strict parallel safe set search_path = ''
as $$
  -- 5 trading days in 7 calendar days; at least one day, at most ten years.
  select least(3650, greatest(1, round(
    p_target_bars / (greatest(p_symbols, 1) * public.expected_bars_per_trading_day(p_timeframe) * 5.0 / 7.0))))::integer
$$;
