-- Stores one Alpaca page and checkpoints its run in a single statement, so the
-- bars of a page and the resume point that follows them commit together: after
-- a crash the run resumes exactly after the last page that was stored. The last
-- page (p_complete_as set) also completes the run in the same transaction, so
-- "every page stored" is never a state a crash can leave behind.
-- Columns arrive as parallel arrays (one bind parameter each), so a
-- 10,000-bar page is one round trip and one INSERT, never a statement per bar.
--
-- SQLSTATE JRLL1 ("job run lease lost"; class JR is this project's own: the
-- SQL standard leaves classes starting with I-Z to implementations, and
-- PostgreSQL defines none starting with J) means: the caller no longer holds
-- the run (its lease expired and the run was requeued, claimed again,
-- cancelled or finished), so nothing was written. saveBarsPage in
-- supabase/functions/_shared/db.ts maps exactly this code to LeaseLostError;
-- every other error, a P0002 included, reaches the caller unchanged.

create function public.save_bars_page(
  p_run_id bigint, p_worker text, p_attempt integer,
  p_next_page_token text,
  p_timeframe text,
  p_symbol text[], p_ts timestamptz[],
  p_open double precision[], p_high double precision[], p_low double precision[], p_close double precision[],
  p_volume bigint[], p_trade_count bigint[], p_vwap double precision[],
  p_lease interval default interval '5 minutes',
  p_complete_as text default null
) returns bigint
language plpgsql volatile set search_path = ''
as $$
declare
  v_rows bigint;
begin
  -- Lock the run first: a worker that lost its claim writes nothing at all.
  perform 1 from public.job_runs r
   where r.id = p_run_id and public.job_run_is_held(r, p_worker, p_attempt)
     for update;
  if not found then
    raise exception 'run % is no longer held by % (attempt %)', p_run_id, p_worker, p_attempt
      using errcode = 'JRLL1', hint = 'lease_lost';
  end if;

  insert into public.bars as b (symbol, timeframe, ts, open, high, low, close, volume, trade_count, vwap)
  select u.symbol, p_timeframe, u.ts, u.open, u.high, u.low, u.close, u.volume, u.trade_count, u.vwap
    from unnest(p_symbol, p_ts, p_open, p_high, p_low, p_close, p_volume, p_trade_count, p_vwap)
         as u(symbol, ts, open, high, low, close, volume, trade_count, vwap)
  on conflict (symbol, timeframe, ts) do update
     set open = excluded.open, high = excluded.high, low = excluded.low, close = excluded.close,
         volume = excluded.volume, trade_count = excluded.trade_count, vwap = excluded.vwap
   where (b.open, b.high, b.low, b.close, b.volume, b.trade_count, b.vwap)
         is distinct from (excluded.open, excluded.high, excluded.low, excluded.close,
                           excluded.volume, excluded.trade_count, excluded.vwap);
  v_rows := coalesce(array_length(p_symbol, 1), 0);

  perform public.checkpoint_job_run(p_run_id, p_worker, p_attempt, p_next_page_token, v_rows, p_lease);
  if p_complete_as is not null then
    perform public.complete_job_run(p_run_id, p_worker, p_attempt, p_complete_as);
  end if;
  return v_rows;
end
$$;
