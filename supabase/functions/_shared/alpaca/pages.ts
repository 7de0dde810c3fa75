/**
 * Streams a bars query page by page: exactly one page in memory at a time,
 * so a worker can upsert and checkpoint each page before asking for the next.
 */
import { RetryableError } from "../errors.ts";
import { assertValidQuery } from "./client.ts";
import type { AlpacaBarsClient, BarPage, BarsQuery } from "./types.ts";

/**
 * Yields pages from `q.pageToken` (or the start) until Alpaca returns a null
 * or empty token. A token Alpaca already handed out (or the one just used)
 * means the server is looping: the page is not yielded and RetryableError is
 * thrown, so the job retries from its last checkpoint.
 */
export async function* iterateBarPages(client: AlpacaBarsClient, q: BarsQuery): AsyncIterable<BarPage> {
  assertValidQuery(q);
  let token = q.pageToken || null;
  const seen = new Set<string>();
  while (true) {
    if (token !== null) seen.add(token);
    const page = await client.fetchPage(q, token);
    const next = page.nextPageToken || null;
    if (next !== null && seen.has(next)) {
      throw new RetryableError(`Alpaca repeated page token ${next} (requested with ${token ?? "none"})`);
    }
    yield { ...page, nextPageToken: next };
    if (next === null) return;
    token = next;
  }
}
