/**
 * The zod equivalent of the functions' hand-written bar guard (`toBarRow`),
 * kept for bench/validation.ts to compare costs and as executable
 * documentation of the bar contract. It shares `canonicalTs` with the guard,
 * so both accept exactly the same timestamps.
 */
import { z } from "zod";
import { canonicalTs, MalformedBarError } from "../../supabase/functions/_shared/alpaca/bar-row.ts";
import type { BarRow } from "../../supabase/functions/_shared/alpaca/types.ts";

const price = z.number().positive(); // zod 4 numbers reject NaN and ±Infinity
const count = z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER);
export const rawBarSchema = z.object({
  t: z.string().transform((t, ctx) => canonicalTs(t) ?? (ctx.addIssue({ code: "custom", message: "bad t" }), z.NEVER)),
  o: price,
  h: price,
  l: price,
  c: price,
  v: count,
  n: count,
  vw: price,
});

/** Maps one raw bar like toBarRow, or throws MalformedBarError listing every bad field. */
export function toBarRowZod(symbol: string, timeframe: string, raw: unknown): BarRow {
  const r = rawBarSchema.safeParse(raw);
  if (!r.success) throw new MalformedBarError(r.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; "));
  const b = r.data;
  return { symbol, timeframe, ts: b.t, open: b.o, high: b.h, low: b.l, close: b.c, volume: b.v, trade_count: b.n, vwap: b.vw };
}
