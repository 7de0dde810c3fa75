/**
 * The SQL functions that own job state, one typed wrapper each. No TypeScript
 * here writes job_runs directly. Connections suit Supabase's transaction
 * pooler: no prepared statements.
 */
import postgres from "postgres";
import type { BarRow } from "./alpaca/types.ts";
import type { ClaimedRunRow } from "./slice.ts";
import type { FailureKind } from "./errors.ts";

export type Sql = postgres.Sql;

export function connect(url: string, max = 3): Sql {
  return postgres(url, {
    prepare: false,
    max,
    idle_timeout: 20,
    connect_timeout: 10,
    onnotice: () => {},
    connection: { application_name: "bars-backfill" },
  });
}

export interface Claim {
  runId: string;
  worker: string;
  attempt: number;
}

export async function requeueExpired(sql: Sql): Promise<number> {
  const [row] = await sql<{ n: number }[]>`select public.requeue_expired_job_runs() as n`;
  return row!.n;
}

/** Runs currently held by a worker (uses the partial index on running runs). */
export async function countRunning(sql: Sql): Promise<number> {
  const [row] = await sql<{ n: number }[]>`select count(*)::int as n from public.job_runs where status = 'running'`;
  return row!.n;
}

export async function claimJobRuns(sql: Sql, worker: string, limit: number, leaseSeconds: number): Promise<ClaimedRunRow[]> {
  return await sql<ClaimedRunRow[]>`
    select * from public.claim_job_runs(${worker}, ${limit}, make_interval(secs => ${leaseSeconds}))`;
}

export async function completeJobRun(sql: Sql, c: Claim, handledBy: string): Promise<boolean> {
  const [row] = await sql<{ ok: boolean }[]>`
    select public.complete_job_run(${c.runId}, ${c.worker}, ${c.attempt}, ${handledBy}) as ok`;
  return row!.ok;
}

/**
 * Records a failed attempt through the one SQL transition of its kind:
 * retryable -> retry_or_fail_job_run (backoff, or failed once attempts are used up),
 * permanent -> fail_job_run (failed at once),
 * rate_limited -> defer_rate_limited_job_run (after retryAfterMs, attempt given back).
 * Returns the run's new status, or null when the claim was lost (nothing changed).
 */
export async function failJobRun(
  sql: Sql,
  c: Claim,
  kind: FailureKind,
  message: string,
  opts: { retryAfterMs?: number; handledBy?: string } = {},
): Promise<string | null> {
  const handledBy = opts.handledBy ?? null;
  let rows: { status: string | null }[];
  switch (kind) {
    case "retryable":
      rows = await sql<{ status: string | null }[]>`
        select public.retry_or_fail_job_run(${c.runId}, ${c.worker}, ${c.attempt}, ${message}, ${handledBy}) as status`;
      break;
    case "permanent":
      rows = await sql<{ status: string | null }[]>`
        select public.fail_job_run(${c.runId}, ${c.worker}, ${c.attempt}, ${message}, ${handledBy}) as status`;
      break;
    case "rate_limited":
      rows = await sql<{ status: string | null }[]>`
        select public.defer_rate_limited_job_run(${c.runId}, ${c.worker}, ${c.attempt}, ${message},
                                                 ${opts.retryAfterMs ?? null}, ${handledBy}) as status`;
      break;
    default: {
      const unknown: never = kind;
      throw new TypeError(`failJobRun: unknown failure kind ${String(unknown)}`);
    }
  }
  return rows[0]!.status;
}

/**
 * The SQLSTATE save_bars_page raises when the caller no longer holds the run
 * (a class of the project's own; see 20261128000500_add_save_bars_page.sql).
 */
export const LEASE_LOST_SQLSTATE = "JRLL1";

/**
 * Hands a held run back before the isolate is cut off: checkpoint kept, lease
 * freed, due now, attempt given back (see hand_back_job_run for the bound on
 * runs that never progress). Returns the new status, or null when the claim
 * was already lost.
 */
export async function handBackJobRun(sql: Sql, c: Claim, reason: string, handledBy: string): Promise<string | null> {
  const [row] = await sql<{ status: string | null }[]>`
    select public.hand_back_job_run(${c.runId}, ${c.worker}, ${c.attempt}, ${reason}, ${handledBy}) as status`;
  return row!.status;
}

/** Raised by saveBarsPage when the run is no longer held by this claim (SQLSTATE LEASE_LOST_SQLSTATE). */
export class LeaseLostError extends Error {
  override readonly name = "LeaseLostError";
}

/**
 * A Postgres array literal of numbers, built with one join. The driver's own
 * array serialisation quotes and escapes every element and was most of a
 * page's CPU (≈23 of ≈33 ms per 10,000 bars in Deno); a number's String() is
 * already valid float8/int8 input. A non-finite value is refused here, as the
 * driver's path would have sent it on as 'NaN' or 'Infinity'.
 */
export function numberArray(values: readonly number[]): string {
  for (let i = 0; i < values.length; i++) {
    if (!Number.isFinite(values[i])) throw new TypeError(`not a finite number at index ${i}: ${values[i]}`);
  }
  return `{${values.join(",")}}`;
}

const NEEDS_ESCAPE = /["\\]/;
const ESCAPED = /["\\]/g;

/** A Postgres array literal of strings, every element quoted (so "NULL" stays a string), `"` and `\` escaped. */
export function textArray(values: readonly string[]): string {
  let plain = true;
  for (let i = 0; i < values.length && plain; i++) plain = !NEEDS_ESCAPE.test(values[i]!);
  const quoted = plain ? values : values.map((v) => v.replace(ESCAPED, "\\$&"));
  return values.length === 0 ? "{}" : `{"${quoted.join('","')}"}`;
}

/**
 * Upserts one page of bars and checkpoints the run in one statement and one
 * round trip (columns as parallel arrays, each one text literal); with `completeAs` (the last page)
 * it also completes the run in the same transaction. Throws LeaseLostError
 * when the claim was lost; then nothing was written.
 */
export async function saveBarsPage(
  sql: Sql,
  c: Claim,
  timeframe: string,
  bars: readonly BarRow[],
  nextPageToken: string | null,
  leaseSeconds: number,
  completeAs: string | null = null,
): Promise<number> {
  const n = bars.length;
  const symbol = new Array<string>(n), ts = new Array<string>(n);
  const open = new Array<number>(n), high = new Array<number>(n), low = new Array<number>(n);
  const close = new Array<number>(n), volume = new Array<number>(n), trades = new Array<number>(n);
  const vwap = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    const b = bars[i]!;
    symbol[i] = b.symbol; ts[i] = b.ts; open[i] = b.open; high[i] = b.high; low[i] = b.low;
    close[i] = b.close; volume[i] = b.volume; trades[i] = b.trade_count; vwap[i] = b.vwap;
  }
  try {
    const [row] = await sql<{ rows: string }[]>`
      select public.save_bars_page(${c.runId}, ${c.worker}, ${c.attempt}, ${nextPageToken}, ${timeframe},
        ${textArray(symbol)}::text[], ${textArray(ts)}::timestamptz[], ${numberArray(open)}::float8[],
        ${numberArray(high)}::float8[], ${numberArray(low)}::float8[], ${numberArray(close)}::float8[],
        ${numberArray(volume)}::int8[], ${numberArray(trades)}::int8[], ${numberArray(vwap)}::float8[],
        make_interval(secs => ${leaseSeconds}), ${completeAs}) as rows`;
    return Number(row!.rows);
  } catch (err) {
    // By code only (not instanceof): the error may come from another copy of the driver.
    if ((err as { code?: unknown }).code === LEASE_LOST_SQLSTATE) {
      throw new LeaseLostError((err as Error).message, { cause: err });
    }
    throw err;
  }
}

/** Takes one request token from a shared bucket; returns ms to wait (0 = go). */
export async function takeRateToken(sql: Sql, bucket: string, perMinute: number, burst?: number): Promise<number> {
  const [row] = await sql<{ wait: number }[]>`
    select public.take_rate_token(${bucket}, ${perMinute}, ${burst ?? null}) as wait`;
  return row!.wait;
}
