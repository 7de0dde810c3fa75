/**
 * Service-key check for every function: the key in `apikey` or
 * `Authorization: Bearer`, compared in constant time against each accepted key.
 * Free of Deno and Node APIs: the local functions gateway (Deno) and its Node
 * tests import `constantTimeEqual` from here too.
 */
const encoder = new TextEncoder();

/** Compares without an early exit, so the time taken does not reveal how much of a key matched. */
export function constantTimeEqual(a: string, b: string): boolean {
  const x = encoder.encode(a);
  const y = encoder.encode(b);
  // Compare over the longer length so timing does not reveal a prefix match.
  const len = Math.max(x.length, y.length);
  let diff = x.length ^ y.length;
  for (let i = 0; i < len; i++) diff |= (x[i] ?? 0) ^ (y[i] ?? 0);
  return diff === 0;
}

export function presentedKey(req: Request): string | null {
  const apikey = req.headers.get("apikey");
  if (apikey) return apikey;
  const auth = req.headers.get("authorization");
  const match = auth?.match(/^Bearer\s+(.+)$/i);
  return match ? match[1]!.trim() : null;
}

export function isAuthorized(req: Request, acceptedKeys: readonly string[]): boolean {
  const key = presentedKey(req);
  if (!key) return false;
  let ok = false;
  for (const accepted of acceptedKeys) ok = constantTimeEqual(key, accepted) || ok;
  return ok;
}
