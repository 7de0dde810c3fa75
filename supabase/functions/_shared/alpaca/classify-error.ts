/**
 * Maps whatever the SDK or the network threw into one of our outcome classes:
 * 429 -> RateLimitedError; 5xx, 408, timeouts, resets, broken JSON ->
 * RetryableError; 400/401/403/404/422 (and other 4xx) -> PermanentError with
 * Alpaca's message. Messages never carry credentials or HTML.
 */
import { errors } from "@alpacahq/alpaca-trade-api";
import { JobError, PermanentError, RateLimitedError, RetryableError } from "../errors.ts";
import { MalformedBarError } from "./bar-row.ts";

const MAX_MESSAGE = 300;

/** Alpaca's message, minus HTML pages, secrets and excess length. */
function cleanMessage(message: string, secrets: readonly string[]): string {
  let m = /<\s*(html|!doctype|head|body)\b/i.test(message)
    ? (/<title>([^<]*)<\/title>/i.exec(message)?.[1]?.trim() ?? "HTML error page")
    : message.trim();
  for (const s of secrets) if (s) m = m.split(s).join("[redacted]");
  return m.length > MAX_MESSAGE ? `${m.slice(0, MAX_MESSAGE)}…` : m;
}

export interface ClassifyContext {
  timeoutMs: number;
  /** Values that must never appear in a message (key id, secret). */
  secrets: readonly string[];
}

export function classifyAlpacaError(err: unknown, ctx: ClassifyContext): JobError {
  if (err instanceof JobError) return err;
  if (err instanceof errors.ApiError) return fromStatus(err, ctx);
  if (err instanceof MalformedBarError) {
    return new RetryableError(`Alpaca returned a malformed bar: ${cleanMessage(err.message, ctx.secrets)}`, { cause: err });
  }
  if (err instanceof SyntaxError) {
    return new RetryableError(`Alpaca returned invalid JSON: ${cleanMessage(err.message, ctx.secrets)}`, { cause: err });
  }
  if (err instanceof errors.FetchError) {
    const name = (err.cause as { name?: string } | undefined)?.name;
    if (name === "TimeoutError") {
      return new RetryableError(`Alpaca request timed out after ${ctx.timeoutMs} ms`, { cause: err });
    }
    if (name === "AbortError") return new RetryableError("Alpaca request was aborted", { cause: err });
    return new RetryableError(`Alpaca connection failed: ${describeCause(err.cause, ctx)}`, { cause: err });
  }
  if (err instanceof Error && err.name === "RequiredError") {
    return new PermanentError(`invalid Alpaca request: ${cleanMessage(err.message, ctx.secrets)}`, { cause: err });
  }
  // A socket dropped while reading the body surfaces as a bare TypeError ("terminated").
  return new RetryableError(`Alpaca request failed: ${describeCause(err, ctx)}`, { cause: err });
}

function describeCause(cause: unknown, ctx: ClassifyContext): string {
  if (!(cause instanceof Error)) return cleanMessage(String(cause), ctx.secrets);
  const inner = (cause as { cause?: unknown }).cause;
  const detail = inner instanceof Error ? ` (${inner.message})` : "";
  return cleanMessage(`${cause.message}${detail}`, ctx.secrets);
}

function fromStatus(err: InstanceType<typeof errors.ApiError>, ctx: ClassifyContext): JobError {
  const status = err.status;
  const message = cleanMessage(err.message ?? "", ctx.secrets);
  const options = { status, cause: err };
  if (status === 429) {
    return new RateLimitedError(`Alpaca rate limit exceeded (429): ${message}`, {
      ...options,
      retryAfterMs: err.retryAfterMs,
    });
  }
  if (status === 401) return new PermanentError("Alpaca rejected the API key (401)", options);
  if (status === 408 || status >= 500) return new RetryableError(`Alpaca server error (${status}): ${message}`, options);
  if (status === 403) return new PermanentError(`Alpaca refused the request (403): ${message}`, options);
  return new PermanentError(`Alpaca rejected the request (${status}): ${message}`, options);
}
