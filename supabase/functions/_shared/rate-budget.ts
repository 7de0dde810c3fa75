/**
 * The Alpaca request budget shared by every isolate of every function: a token
 * bucket kept in Postgres (take_rate_token), so one account's limit holds
 * however many workers run at once. Each request waits for a token first.
 */
import { sleep } from "./concurrency.ts";
import { takeRateToken, type Sql } from "./db.ts";

const ALPACA_BUCKET = "alpaca";

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
