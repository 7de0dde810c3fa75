/** Fixed response shapes of Alpaca's edge: nginx's HTML 401, JSON errors, rate-limit headers. */
import type { ServerResponse } from "node:http";
import type { RateDecision } from "./rate-limit.ts";

/** nginx's page, byte for byte in shape (CRLF line ends), as Alpaca sends it. */
export const UNAUTHORIZED_HTML = [
  "<html>",
  "<head><title>401 Authorization Required</title></head>",
  "<body>",
  "<center><h1>401 Authorization Required</h1></center>",
  "<hr><center>nginx</center>",
  "</body>",
  "</html>",
  "",
].join("\r\n");

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

export function send(
  res: ServerResponse,
  status: number,
  body: string,
  headers: Record<string, string> = {},
  contentType = "application/json; charset=utf-8",
): void {
  if (res.destroyed) return;
  res.writeHead(status, {
    "Content-Type": contentType,
    "Content-Length": String(Buffer.byteLength(body)),
    ...headers,
  });
  res.end(body);
}

export function sendJsonError(
  res: ServerResponse,
  status: number,
  message: string,
  headers: Record<string, string> = {},
  code?: number,
): void {
  send(res, status, JSON.stringify(code === undefined ? { message } : { code, message }), headers);
}
