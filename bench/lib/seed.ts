/** The seed scenario (the old system's two US baskets, 61 symbols, 1Min) and New York calendar helpers. */
import type { Sql } from "postgres";
import { SEED_BASKETS } from "../../scripts/lib/seed-baskets.ts";

export { SEED_BASKETS };
export const SEED_SYMBOLS: string[] = SEED_BASKETS.flatMap((b) => b.symbols);

export type Basket = { name: string; symbols: string[] };

/** Plans the baskets (default: both) over [start, end) with the planner's defaults, as an operator would. */
export async function planSeed(sql: Sql, start: string, end: string, baskets: readonly Basket[] = SEED_BASKETS): Promise<number> {
  for (const b of baskets) {
    await sql`select public.plan_backfill('batch', ${b.name}, ${b.symbols as never}::jsonb, '1Min', ${start}, ${end})`;
  }
  const [{ n }] = await sql<{ n: number }[]>`select count(*)::int as n from public.job_runs`;
  return n;
}

const NY = new Intl.DateTimeFormat("en-US", {
  timeZone: "America/New_York", hourCycle: "h23", year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit",
});

/** The UTC instant of midnight in New York on the civil date y-m-d (month 1-12). */
export function nyMidnight(y: number, m: number, d: number): Date {
  for (const offsetHours of [5, 4]) {
    const guess = new Date(Date.UTC(y, m - 1, d, offsetHours));
    const parts = Object.fromEntries(NY.formatToParts(guess).map((p) => [p.type, p.value]));
    if (parts.hour === "00" && parts.minute === "00" && Number(parts.day) === d) return guess;
  }
  throw new Error(`no New York midnight found for ${y}-${m}-${d}`);
}

/** Monday-to-Friday New York dates of one month, each as [midnight, next midnight). */
export function weekdaysOfMonth(y: number, m: number): Array<{ date: string; start: Date; end: Date }> {
  const days: Array<{ date: string; start: Date; end: Date }> = [];
  for (let d = 1; d <= 31; d++) {
    const civil = new Date(Date.UTC(y, m - 1, d));
    if (civil.getUTCMonth() !== m - 1) break;
    const dow = civil.getUTCDay();
    if (dow === 0 || dow === 6) continue;
    const next = new Date(Date.UTC(y, m - 1, d + 1));
    days.push({
      date: civil.toISOString().slice(0, 10),
      start: nyMidnight(y, m, d),
      end: nyMidnight(next.getUTCFullYear(), next.getUTCMonth() + 1, next.getUTCDate()),
    });
  }
  return days;
}
