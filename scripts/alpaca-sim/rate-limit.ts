/**
 * Alpaca's historical-API rate limit as a token bucket per API key: capacity
 * = requests per minute, starts full, refills continuously at capacity/60 s.
 * `timeScale` multiplies the refill speed (2 = a "minute" lasts 30 s), so
 * benchmarks keep the same shape in less time. One request costs one token
 * regardless of how many symbols it asks for.
 */

export interface RateDecision {
  allowed: boolean;
  limit: number;
  remaining: number;
  /** Epoch seconds when the next token arrives (X-RateLimit-Reset). */
  resetEpochSeconds: number;
}

interface Bucket {
  tokens: number;
  updatedMs: number;
}

export class RateLimiter {
  private readonly buckets = new Map<string, Bucket>();

  constructor(private readonly timeScale: number, private readonly now: () => number) {
    if (!(timeScale > 0)) throw new RangeError("timeScale must be > 0");
  }

  /** Takes a token for `key` when one is available. */
  take(key: string, perMinute: number): RateDecision {
    const now = this.now();
    const refillPerMs = (perMinute / 60_000) * this.timeScale;
    const bucket = this.buckets.get(key) ?? { tokens: perMinute, updatedMs: now };
    bucket.tokens = Math.min(perMinute, bucket.tokens + Math.max(0, now - bucket.updatedMs) * refillPerMs);
    bucket.updatedMs = now;
    const allowed = bucket.tokens >= 1;
    if (allowed) bucket.tokens -= 1;
    this.buckets.set(key, bucket);
    const untilNextMs = bucket.tokens >= perMinute ? 0 : (1 - (bucket.tokens % 1)) / refillPerMs;
    return {
      allowed,
      limit: perMinute,
      remaining: Math.floor(bucket.tokens),
      resetEpochSeconds: Math.ceil((now + untilNextMs) / 1000),
    };
  }

  reset(): void {
    this.buckets.clear();
  }
}
