/**
 * Maps whatever the SDK or the network threw into one of our outcome classes:
 * 429 -> RateLimitedError (with the wait Alpaca's X-RateLimit-Reset implies);
 * 5xx, 408, timeouts, resets, broken JSON -> RetryableError; 400/401/403/404/
 * 414/422 (and other 4xx) -> PermanentError with Alpaca's message. Messages
 * never carry credentials or HTML.
 *
 * Bad credentials come back two ways: 401 ("Authentication headers are
 * missing or invalid", alpacahq/alpaca-trade-api-js tooling/specs/market-data-api.json
 * components.responses."401"; an nginx HTML page on the wire) or 403 ("the
 * request was not authenticated / the provided credentials were incorrect",
 * https://docs.alpaca.markets/docs/market-data-faq; an nginx "403 Forbidden"
 * page or `{"message": "forbidden."}`). Both are one authentication failure,
 * "Alpaca rejected the API key (<status>)". The other 403, Alpaca's JSON
 * `subscription does not permit querying recent SIP data`, is an entitlement
 * refusal and keeps Alpaca's message.
 */
import { errors } from "@alpacahq/alpaca-trade-api";
import { JobError, PermanentError, RateLimitedError, RetryableError } from "../errors.ts";
import { MalformedBarError } from "./bar-row.ts";

const MAX_MESSAGE = 300;

/**
 * Bounds on the wait derived from X-RateLimit-Reset (whole epoch seconds, so
 * up to a second late; a skewed clock can make it 0 or far off). Alpaca's
 * window is a minute: no wait longer than that is ever needed.
 */
export const MIN_RATE_LIMIT_WAIT_MS = 1_000;
export const MAX_RATE_LIMIT_WAIT_MS = 60_000;

/** A 403 that is about the key, not about what the key may see. */
function isCredentialRefusal(rawMessage: string): boolean {
  const m = rawMessage.trim();
  if (/<\s*(html|!doctype|head|body)\b/i.test(m)) return true; // nginx's page: no Alpaca JSON envelope
  if (m === "" || m.startsWith("Response returned an error code")) return true; // empty body
  return /^(forbidden|unauthorized|access key verification failed)\b/i.test(m);
}

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
    // The SDK derives retryAfterMs from Retry-After (Alpaca sends none) or else X-RateLimit-Reset.
    const wait = err.retryAfterMs;
    return new RateLimitedError(`Alpaca rate limit exceeded (429): ${message}`, {
      ...options,
      retryAfterMs: wait === undefined || !Number.isFinite(wait)
        ? undefined
        : Math.min(MAX_RATE_LIMIT_WAIT_MS, Math.max(MIN_RATE_LIMIT_WAIT_MS, Math.ceil(wait))),
    });
  }
  if (status === 401 || (status === 403 && isCredentialRefusal(err.message ?? ""))) {
    return new PermanentError(`Alpaca rejected the API key (${status})`, options);
  }
  if (status === 408 || status >= 500) return new RetryableError(`Alpaca server error (${status}): ${message}`, options);
  if (status === 403) return new PermanentError(`Alpaca refused the request (403): ${message}`, options);
  if (status === 414) {
    return new PermanentError(
      `Alpaca refused the request URL as too long (414): ${message}; the basket needs fewer or shorter symbols`,
      options,
    );
  }
  return new PermanentError(`Alpaca rejected the request (${status}): ${message}`, options);
}
