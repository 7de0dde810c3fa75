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

/** Any thrown value as a JobError; unknown errors are retryable. */
export function toJobError(err: unknown): JobError {
  if (err instanceof JobError) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new RetryableError(message, { cause: err });
}
