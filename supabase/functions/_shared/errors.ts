/**
 * The four outcomes of a unit of work, as error classes. A worker maps each one
 * to exactly one SQL transition: success -> complete_job_run, RetryableError ->
 * retry_or_fail_job_run, PermanentError -> fail_job_run, RateLimitedError ->
 * defer_rate_limited_job_run (does not use an attempt).
 */
export type FailureKind = "retryable" | "permanent" | "rate_limited";

export abstract class JobError extends Error {
  abstract readonly kind: FailureKind;
  /** HTTP status of the upstream response, when there was one. */
  readonly status: number | undefined;

  constructor(message: string, options: { status?: number; cause?: unknown } = {}) {
    super(message, { cause: options.cause });
    this.status = options.status;
  }
}

/** Worth trying again later: 5xx, timeouts, resets, malformed bodies. */
export class RetryableError extends JobError {
  override readonly name = "RetryableError";
  readonly kind = "retryable" as const;
}

/** Trying again cannot help: 400/401/403/404/422, invalid input. */
export class PermanentError extends JobError {
  override readonly name = "PermanentError";
  readonly kind = "permanent" as const;
}

/** The upstream said "slow down" (429). Wait, do not burn an attempt. */
export class RateLimitedError extends JobError {
  override readonly name = "RateLimitedError";
  readonly kind = "rate_limited" as const;
  readonly retryAfterMs: number | undefined;

  constructor(message: string, options: { status?: number; cause?: unknown; retryAfterMs?: number } = {}) {
    super(message, options);
    this.retryAfterMs = options.retryAfterMs;
  }
}

/**
 * The database or its pooler refusing a connection for want of slots:
 * Postgres' too_many_connections (53300, "too many clients already",
 * "remaining connection slots are reserved"), PgBouncer's "no more
 * connections allowed (max_client_conn)", Supavisor's "Max client
 * connections reached". Matched by code and by message, as poolers answer
 * with codes of their own.
 */
const CONNECTION_REFUSED = /too many clients|remaining connection slots|no more connections allowed|max_client_conn|max client connections/i;

/** Wait before retrying a refused connection: the slots free up as other runs finish their pages. */
export const CONNECTION_REFUSED_RETRY_MS = 2_000;

/** Any thrown value as a JobError; unknown errors are retryable. */
export function toJobError(err: unknown): JobError {
  if (err instanceof JobError) return err;
  const message = err instanceof Error ? err.message : String(err);
  // A connection budget exhausted slows the backfill down; it never uses up a run's attempts.
  if ((err as { code?: unknown } | null)?.code === "53300" || CONNECTION_REFUSED.test(message)) {
    return new RateLimitedError(`database connection limit reached: ${message}`, {
      cause: err, retryAfterMs: CONNECTION_REFUSED_RETRY_MS,
    });
  }
  return new RetryableError(message, { cause: err });
}
