/**
 * `npm start -- --follow`: after the backfill drains, the local equivalent of
 * the pg_cron job bars-follow-catch-up. At the same times as that job
 * (01:30 UTC, Tuesday to Saturday: after 20:15 New York, the extended-hours
 * close plus SIP's 15-minute delay, in both EST and EDT), it runs
 * catch_up_followed_definitions(now()) and watches the new slices drain. Where
 * the database's pg_cron already runs that job, nothing is done here.
 */
import type { Sql } from "postgres";

const DAY_MS = 86_400_000;
/** The schedule of setup_follow_catch_up_cron()'s default, '30 1 * * 2-6': minutes after 00:00 UTC, and UTC weekdays. */
const CATCH_UP_MINUTE_UTC = 90;
const CATCH_UP_WEEKDAYS_UTC = new Set([2, 3, 4, 5, 6]);

/** The first catch-up time strictly after `now`. */
export function nextCatchUpAt(now: Date): Date {
  const midnight = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate());
  for (let day = 0; day <= 7; day++) {
    const at = new Date(midnight + day * DAY_MS + CATCH_UP_MINUTE_UTC * 60_000);
    if (at > now && CATCH_UP_WEEKDAYS_UTC.has(at.getUTCDay())) return at;
  }
  throw new Error("unreachable: every week has a catch-up day");
}

export interface CatchUpResult {
  slices: number;
  lines: string[];
}

/** One catch-up of every followed definition, as the pg_cron job runs it; a line per definition. */
export async function catchUpNow(sql: Sql): Promise<CatchUpResult> {
  const rows = await sql<{ id: string; name: string; to: Date; slices: number; note: string | null }[]>`
    select c.job_def_id::text as id, d.symbol as name, c.covered_to as to, c.slices_added as slices, c.note
      from public.catch_up_followed_definitions(now()) c join public.job_definitions d on d.id = c.job_def_id
     order by c.job_def_id`;
  return {
    slices: rows.reduce((n, r) => n + r.slices, 0),
    lines: rows.map((r) => `${r.name} (definition ${r.id}): covered to ${r.to.toISOString()}, ` +
      `${r.slices} slice(s) added${r.note ? ` (${r.note})` : ""}`),
  };
}

/** Whether the database's pg_cron runs the catch-up (setup_follow_catch_up_cron() scheduled it), and its report line. */
export async function pgCronCatchesUp(sql: Sql): Promise<{ cron: boolean; line: string }> {
  const [{ exists }] = await sql<{ exists: boolean }[]>`
    select to_regprocedure('public.setup_follow_catch_up_cron(text)') is not null as exists`;
  if (!exists) return { cron: false, line: "public.setup_follow_catch_up_cron() is not installed" };
  try {
    const [{ line }] = await sql<{ line: string }[]>`select public.setup_follow_catch_up_cron() as line`;
    return { cron: line.startsWith("scheduled bars-follow-catch-up"), line };
  } catch (err) {
    return { cron: false, line: `setup_follow_catch_up_cron() failed: ${(err as Error).message}` };
  }
}
