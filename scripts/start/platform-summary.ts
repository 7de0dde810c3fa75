/**
 * What the run cost the platform, for the end of npm start: the isolates the
 * local platform started and how they ended, the runs handed back before an
 * isolate limit (and any left to their lease), attempts per run, and the peak
 * number of database connections the functions held.
 */
import type { Sql } from "postgres";
import type { GatewayHealth } from "../gateway/platform.ts";

/** Samples the functions' connections (application_name bars-backfill) until stopped; keeps the peak. */
export function sampleConnections(sql: Sql, everyMs = 500): { stop(): number } {
  let peak = 0;
  const timer = setInterval(() => {
    sql<{ n: number }[]>`select count(*)::int as n from pg_stat_activity where application_name = 'bars-backfill'`
      .then(([row]) => (peak = Math.max(peak, row!.n)), () => {});
  }, everyMs);
  return {
    stop() {
      clearInterval(timer);
      return peak;
    },
  };
}

export async function platformSummary(sql: Sql, ids: number[], gatewayUrl: string, peakConnections: number): Promise<string[]> {
  const [runs] = await sql<{ handbacks: number; expired: number }[]>`
    select count(*) filter (where e->>'kind' = 'handed_back')::int as handbacks,
           count(*) filter (where e->>'kind' = 'lease_expired')::int as expired
      from public.job_runs r left join lateral jsonb_array_elements(r.errors) e on true
     where r.job_def_id = any(${ids}::bigint[])`;
  const attempts = await sql<{ attempt: number; n: number }[]>`
    select attempt, count(*)::int as n from public.job_runs where job_def_id = any(${ids}::bigint[]) group by 1 order by 1`;
  const lines = [
    `runs:              ${runs!.handbacks} handed back before an isolate limit, ${runs!.expired} left to their lease; ` +
    `attempts per run: ${attempts.map((a) => `${a.attempt}×${a.n}`).join(", ") || "none"}`,
    `connections:       at most ${peakConnections} to the database at once (the functions' pools)`,
  ];
  try {
    const res = await fetch(`${gatewayUrl}/_internal/health`);
    const health = await res.json() as GatewayHealth;
    const ended = Object.entries(health.isolates.shutdown).map(([reason, n]) => `${reason} ${n}`).join(", ") || "none";
    lines.unshift(`isolates:          ${health.isolates.started} started, ${health.isolates.retired} retired; ended: ${ended} ` +
      `(limits: ${health.limits.wall_clock_ms / 1000} s wall clock, ${health.limits.cpu_soft_ms}/${health.limits.cpu_hard_ms} ms CPU, ` +
      `${health.limits.memory_mb} MB)`);
  } catch {
    lines.unshift("isolates:          (the gateway did not answer its health check)");
  }
  return lines;
}
