/**
 * Forwards one request to an isolate over loopback HTTP and streams its
 * answer back. A request cut off unanswered by a termination the gateway
 * ordered gets 546 WORKER_LIMIT; one whose isolate died by itself gets
 * 500 WORKER_ERROR; one whose isolate failed to boot, 503 BOOT_ERROR.
 *
 * Invariant: every assigned request is released exactly once, when its
 * response body has been forwarded in full, cancelled or broken.
 */
import { PROXY_HEADERS } from "../isolate-protocol.ts";
import { errorResponse, ERRORS, type ShutdownReason } from "../platform.ts";
import { describeError, log } from "./log.ts";
import type { FunctionPool, Member } from "./pool.ts";

/** Ends the gateway orders, which cut a request off with 546. */
const ORDERED_ENDS: readonly ShutdownReason[] = ["WallClockTime", "CPUTime", "Memory", "EarlyDrop", "TerminationRequested"];
/** How long a failed request waits for its isolate's exit, to learn why it ended. */
const EXIT_WAIT_MS = 1_000;

export async function invoke(pool: FunctionPool, req: Request, fnPath: string, origin: string): Promise<Response> {
  const { member, booted } = await pool.assign();
  if (!booted) return errorResponse(isOrdered(member.endReason) ? ERRORS.workerLimit : ERRORS.bootError);
  const iso = member.isolate;
  iso.served++;
  let released = false;
  const release = () => {
    if (released) return;
    released = true;
    pool.release(member);
  };
  let res: Response;
  try {
    // The request body is read in full before it is forwarded: an isolate that
    // answers (a 413, say) while a streamed upload is still arriving would
    // otherwise race the end of that upload on the loopback hop.
    const body = req.body ? new Uint8Array(await req.arrayBuffer()) : undefined;
    res = await fetch(`http://127.0.0.1:${iso.port}${fnPath}`, {
      method: req.method,
      headers: hopHeaders(req.headers, iso.token, origin),
      body,
      redirect: "manual",
      signal: member.cut.signal,
    } as RequestInit);
  } catch (e) {
    release();
    const reason = await endReason(member);
    if (isOrdered(reason)) return errorResponse(ERRORS.workerLimit);
    log("error", "isolate failed to answer", { fn: pool.name, isolate: iso.id, ended: reason, error: describeError(e) });
    return errorResponse(ERRORS.workerError);
  }
  const init = { status: res.status, statusText: res.statusText, headers: res.headers };
  if (!res.body) {
    release();
    return new Response(null, init);
  }
  return new Response(trackEnd(res.body, release), init);
}

function isOrdered(reason: ShutdownReason | null): boolean {
  return reason !== null && ORDERED_ENDS.includes(reason);
}

async function endReason(member: Member): Promise<ShutdownReason | null> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const reason = await Promise.race([
    member.ended,
    new Promise<null>((resolve) => (timer = setTimeout(() => resolve(null), EXIT_WAIT_MS))),
  ]);
  clearTimeout(timer);
  return reason ?? member.endReason;
}

/** The client's headers plus the isolate's token and the origin; the hop itself is not compressed. */
function hopHeaders(incoming: Headers, token: string, origin: string): Headers {
  const headers = new Headers(incoming);
  for (const name of Object.values(PROXY_HEADERS)) headers.delete(name);
  headers.delete("host");
  // The body is forwarded whole (see invoke): its length is the buffer's, never a chunked upload's.
  headers.delete("transfer-encoding");
  headers.delete("content-length");
  const acceptEncoding = incoming.get("accept-encoding");
  if (acceptEncoding !== null) headers.set(PROXY_HEADERS.acceptEncoding, acceptEncoding);
  headers.set("accept-encoding", "identity");
  headers.set(PROXY_HEADERS.token, token);
  headers.set(PROXY_HEADERS.origin, origin);
  return headers;
}

/** The same bytes, calling `onEnd` once when the stream is done, cancelled or broken. */
function trackEnd(body: ReadableStream<Uint8Array>, onEnd: () => void): ReadableStream<Uint8Array> {
  const reader = body.getReader();
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        const { done, value } = await reader.read();
        if (done) {
          controller.close();
          onEnd();
        } else {
          controller.enqueue(value);
        }
      } catch (e) {
        controller.error(e);
        onEnd();
      }
    },
    cancel(reason) {
      onEnd();
      return reader.cancel(reason);
    },
  });
}
