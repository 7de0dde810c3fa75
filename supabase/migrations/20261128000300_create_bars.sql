-- Bars: one row per (symbol, timeframe, bucket start). Writes are idempotent
-- upserts, so a page written twice (a retried slice) changes nothing.

create table public.bars (
  symbol       text not null,
  timeframe    text not null,
  ts           timestamptz not null,
  open         double precision not null,
  high         double precision not null,
  low          double precision not null,
  close        double precision not null,
  volume       bigint not null,
  trade_count  bigint not null,
  vwap         double precision not null,
  constraint bars_pkey primary key (symbol, timeframe, ts)
);

comment on table public.bars is 'Historical bars from Alpaca, keyed by (symbol, timeframe, ts); ts is the bucket start.';
