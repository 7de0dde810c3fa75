/** One tick by hand: POST /functions/v1/orchestrator, as pg_cron's net.http_post would. */
import type { Sql } from "postgres";
import type { TickCounts } from "../../supabase/functions/orchestrator/handler.ts";

export async function tickOrchestrator(gatewayUrl: string, serviceKey: string, maxRuns: number): Promise<TickCounts> {
  const res = await fetch(`${gatewayUrl}/functions/v1/orchestrator`, {
    method: "POST",
    headers: { "content-type": "application/json", apikey: serviceKey },
    body: JSON.stringify({ maxRuns }),
    signal: AbortSignal.timeout(30_000),
  });
  const text = await res.text();
  if (res.status !== 200) throw new Error(`orchestrator answered ${res.status}: ${text.slice(0, 200)}`);
  return JSON.parse(text) as TickCounts;
}

/**
 * A local tick that keeps at most `maxInFlight` runs running: it asks the
 * orchestrator for only the free room. With no room it still sweeps expired
 * leases (the orchestrator would have), so runs a dead gateway held cannot block the queue.
 */
export async function tickWithin(
  sql: Sql,
  gatewayUrl: string,
  serviceKey: string,
  maxInFlight: number,
): Promise<TickCounts | undefined> {
  const [{ running }] = await sql<{ running: number }[]>`
    select count(*)::int as running from public.job_runs where status = 'running'`;
  const room = Math.min(100, maxInFlight - running);
  if (room > 0) return await tickOrchestrator(gatewayUrl, serviceKey, room);
  await sql`select public.requeue_expired_job_runs()`;
  return undefined;
}
