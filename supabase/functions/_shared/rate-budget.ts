/**
 * The Alpaca request budget shared by every isolate of every function: a token
 * bucket kept in Postgres (take_rate_token), so one account's limit holds
 * however many workers run at once. Each request waits for a token first.
 * take_rate_token also counts each granted request per minute, and
 * note_rate_limited each 429, in rate_bucket_minutes (what `jobs report` shows).
 */
import { sleep } from "./concurrency.ts";
import { takeRateToken, type Sql } from "./db.ts";

export const ALPACA_BUCKET = "alpaca";

/** Resolves when a token was taken; sleeps for as long as the bucket says between tries. */
export function sharedRateBudget(sql: Sql, perMinute: number, burst?: number, bucket = ALPACA_BUCKET): () => Promise<void> {
  return async () => {
    for (;;) {
      const wait = await takeRateToken(sql, bucket, perMinute, burst);
      if (wait === 0) return;
      await sleep(wait);
    }
  };
}

/**
 * Counts a 429 against the bucket. Never throws: a record that cannot be
 * written must not replace the 429 the worker has to handle (the report then
 * shows one 429 fewer, and the run's own handling is unchanged).
 */
export function rateLimitRecorder(sql: Sql, bucket = ALPACA_BUCKET): () => Promise<void> {
  return async () => {
    try {
      await sql`select public.note_rate_limited(${bucket})`;
    } catch {
      // Deliberately dropped, see above.
    }
  };
}
