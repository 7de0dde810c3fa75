/**
 * npm start's `--max-runs` as the orchestrator's own in-flight cap
 * (ORCHESTRATOR_MAX_IN_FLIGHT of the functions it starts): the orchestrator
 * is the one place that counts running runs before claiming, so no second
 * count in the local scheduler can race it.
 */
import { inFlightTarget } from "../../supabase/functions/_shared/config.ts";

/**
 * The lower of `--max-runs` and what the orchestrator would allow anyway (an
 * ORCHESTRATOR_MAX_IN_FLIGHT set in npm start's environment, else one minute
 * of the Alpaca budget): --max-runs only ever lowers the cap. A configured
 * value that is not a positive integer is passed on unchanged, so the
 * functions reject it with their usual configuration error.
 */
export function orchestratorInFlightCap(maxRuns: number, requestsPerMinute: number, configured: string | undefined): string {
  const maxInFlight = configured === undefined || configured.trim() === "" ? undefined : Number(configured);
  if (maxInFlight !== undefined && !(Number.isInteger(maxInFlight) && maxInFlight > 0)) return configured!;
  return String(Math.min(maxRuns, inFlightTarget({ maxInFlight, alpacaRequestsPerMinute: requestsPerMinute })));
}
