/**
 * Fixed response shapes of Alpaca's edge: nginx's HTML pages (401, 403, 414),
 * JSON errors, rate-limit headers, and gzip for clients that accept it.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { constants, createGzip, gzipSync, type Gzip } from "node:zlib";
import type { RateDecision } from "./rate-limit.ts";

/**
 * nginx's own error page, byte for byte in shape (CRLF line ends), as Alpaca's
 * edge sends it: the recorded 401 page, and the 403 page a user got from
 * Alpaca's data host (alpacahq/marketstore issue "error connecting to server",
 * body `<head><title>403 Forbidden</title></head>` … `<center>nginx</center>`).
 */
export function nginxPage(statusLine: string): string {
  return [
    "<html>",
    `<head><title>${statusLine}</title></head>`,
    "<body>",
    `<center><h1>${statusLine}</h1></center>`,
    "<hr><center>nginx</center>",
    "</body>",
    "</html>",
    "",
  ].join("\r\n");
}

export const UNAUTHORIZED_HTML = nginxPage("401 Authorization Required");
export const FORBIDDEN_HTML = nginxPage("403 Forbidden");
/** nginx answers a request line longer than one large_client_header_buffers buffer with this. */
export const URI_TOO_LARGE_HTML = nginxPage("414 Request-URI Too Large");

export const TOO_MANY_REQUESTS = '{"message": "too many requests."}';

let requestCounter = 0;
export function nextRequestId(): string {
  requestCounter = (requestCounter + 1) % 0xffffffff;
  return `sim${Date.now().toString(16)}${requestCounter.toString(16).padStart(8, "0")}`;
}

export function rateHeaders(d: RateDecision): Record<string, string> {
  return {
    "X-RateLimit-Limit": String(d.limit),
    "X-RateLimit-Remaining": String(d.remaining),
    "X-RateLimit-Reset": String(d.resetEpochSeconds),
  };
}

/**
 * True when the request accepts gzip (`Accept-Encoding: gzip`, not `gzip;q=0`).
 * Node's fetch sends `gzip, deflate`, Deno's `gzip,br`; the official Go SDK
 * sets `Accept-Encoding: gzip` itself and gunzips (alpaca-trade-api-go
 * marketdata/rest.go, `get` and `unmarshal`).
 */
export function acceptsGzip(req: IncomingMessage): boolean {
  const header = req.headers["accept-encoding"];
  if (!header) return false;
  return header.split(",").some((part) => {
    const [coding, ...params] = part.trim().toLowerCase().split(";").map((p) => p.trim());
    if (coding !== "gzip" && coding !== "x-gzip") return false;
    const q = params.find((p) => p.startsWith("q="));
    return q === undefined || Number(q.slice(2)) > 0;
  });
}

/** nginx's default gzip_comp_level is 1: cheap to make, and the client's cost (inflating) hardly depends on it. */
const GZIP_OPTIONS = { level: 1, flush: constants.Z_NO_FLUSH };

export function send(
  res: ServerResponse,
  status: number,
  body: string,
  headers: Record<string, string> = {},
  contentType = "application/json; charset=utf-8",
  gzip = false,
): void {
  if (res.destroyed) return;
  const bytes = gzip ? gzipSync(body, GZIP_OPTIONS) : Buffer.from(body);
  res.writeHead(status, {
    "Content-Type": contentType,
    "Content-Length": String(bytes.length),
    ...(gzip ? { "Content-Encoding": "gzip", Vary: "Accept-Encoding" } : {}),
    ...headers,
  });
  res.end(bytes);
}

/** A streamed 200 (chunked): `write` each piece, then `end`; gzipped on the fly when asked. */
export function openStream(
  res: ServerResponse,
  headers: Record<string, string>,
  gzip: boolean,
): { write(chunk: string): void; end(): void } {
  res.writeHead(200, {
    "Content-Type": "application/json; charset=utf-8",
    ...(gzip ? { "Content-Encoding": "gzip", Vary: "Accept-Encoding" } : {}),
    ...headers,
  });
  if (!gzip) return { write: (c) => void res.write(c), end: () => void res.end() };
  const z: Gzip = createGzip(GZIP_OPTIONS);
  z.pipe(res);
  return { write: (c) => void z.write(c), end: () => void z.end() };
}

export function sendJsonError(
  res: ServerResponse,
  status: number,
  message: string,
  headers: Record<string, string> = {},
  code?: number,
  gzip = false,
): void {
  send(res, status, JSON.stringify(code === undefined ? { message } : { code, message }), headers, undefined, gzip);
}
