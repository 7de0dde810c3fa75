/**
 * What the backfill spent of Alpaca's budget, as recorded per minute in
 * rate_bucket_minutes: every token take_rate_token grants is one request
 * counted (concurrent takers included), a refused take is none, and
 * note_rate_limited counts each 429.
 */
import { describe, expect, it } from "vitest";
import { useTestDb } from "../../helpers/db.ts";

const db = useTestDb({ truncateBeforeEach: ["public.rate_buckets", "public.rate_bucket_minutes"] });

const recorded = async (bucket: string) => {
  const [row] = await db.sql<{ requests: number; rate_limited: number; per_minute: number }[]>`
    select coalesce(sum(requests), 0)::int as requests, coalesce(sum(rate_limited), 0)::int as rate_limited,
           max(per_minute) as per_minute
      from public.rate_bucket_minutes where bucket = ${bucket}`;
  return row!;
};

describe("rate_bucket_minutes", () => {
  it("counts each granted token as one request, across concurrent connections, and no refused one", async () => {
    const conns = Array.from({ length: 4 }, () => db.connect(1));
    const granted = await Promise.all(conns.map(async (c) => {
      let ok = 0;
      for (let i = 0; i < 20; i++) {
        const [{ wait }] = await c`select public.take_rate_token('spend', 6, 30) as wait`;
        if (wait === 0) ok++;
      }
      return ok;
    }));
    const total = granted.reduce((a, b) => a + b, 0);
    expect(total).toBe(30);
    expect(await recorded("spend")).toEqual({ requests: 30, rate_limited: 0, per_minute: 6 });
    const minutes = await db.sql`select minute from public.rate_bucket_minutes where minute <> date_trunc('minute', minute)`;
    expect(minutes).toEqual([]);
  });

  it("counts 429s with note_rate_limited, beside the requests of the same bucket", async () => {
    await db.sql`select public.take_rate_token('spend', 200)`;
    for (let i = 0; i < 3; i++) await db.sql`select public.note_rate_limited('spend')`;
    expect(await recorded("spend")).toEqual({ requests: 1, rate_limited: 3, per_minute: 200 });
    // A bucket never used for a token yet still gets its 429 counted.
    await db.sql`select public.note_rate_limited('fresh')`;
    expect(await recorded("fresh")).toMatchObject({ requests: 0, rate_limited: 1 });
  });
});
