/** JSON responses with the shapes every function uses. */
export function json(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": "application/json", ...headers },
  });
}

export const badRequest = (message: string) => json(400, { error: "bad_request", message });
export const unauthorized = () => json(401, { error: "unauthorized", message: "missing or invalid service key" });
export const methodNotAllowed = () => json(405, { error: "method_not_allowed", message: "use POST" }, { allow: "POST" });
export const payloadTooLarge = (max: number) =>
  json(413, { error: "payload_too_large", message: `body exceeds ${max} bytes` });

/** Reads a JSON body with a size bound. Empty body -> `emptyAs`. */
export async function readJsonBody(
  req: Request,
  maxBytes: number,
  emptyAs: unknown = undefined,
): Promise<{ ok: true; value: unknown } | { ok: false; response: Response }> {
  const declared = Number(req.headers.get("content-length") ?? "0");
  if (declared > maxBytes) return { ok: false, response: payloadTooLarge(maxBytes) };
  const text = await req.text();
  if (new TextEncoder().encode(text).length > maxBytes) return { ok: false, response: payloadTooLarge(maxBytes) };
  if (text.trim() === "") return { ok: true, value: emptyAs };
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch {
    return { ok: false, response: badRequest("body: must be valid JSON") };
  }
}
