/** The client's data contracts (types only; shared by workers and the database layer). */

/** One bar as stored in public.bars. */
export interface BarRow {
  symbol: string;
  timeframe: string;
  /** ISO-8601 UTC, e.g. 2024-03-05T14:30:00Z. */
  ts: string;
  open: number;
  high: number;
  low: number;
  close: number;
  volume: number;
  trade_count: number;
  vwap: number;
}

export interface BarsQuery {
  symbols: string[];
  /** Alpaca grammar: 1Min, 5Min, 1Hour, 1Day, … */
  timeframe: string;
  /** ISO-8601 instants (with a time part), both inclusive as in Alpaca. */
  start: string;
  end: string;
  feed?: string;
  adjustment?: string;
  /** Rows per page, across all symbols (default 10,000, Alpaca's maximum). */
  limit?: number;
  /** Resume token (a checkpoint); null or absent = first page. */
  pageToken?: string | null;
  /** Chosen by the caller, never inferred: 'single' needs exactly one symbol. */
  endpoint: "multi" | "single";
}

export interface BarPage {
  bars: BarRow[];
  /** null on the last page. */
  nextPageToken: string | null;
  /** The token this page was requested with (null for the first page). */
  pageToken: string | null;
}

export interface AlpacaBarsClient {
  fetchPage(q: BarsQuery, pageToken: string | null): Promise<BarPage>;
}
