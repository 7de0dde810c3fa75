/**
 * One tick: requeue expired leases, claim due runs, parse each into a Slice,
 * route it by kind and hand it to its worker function. Answers with counts as
 * soon as every worker has accepted (workers answer 202 and run in the
 * background), so pg_net's timeout is never the limit.
 */
import { z } from "zod";
import { isAuthorized } from "../_shared/auth.ts";
import { mapLimit } from "../_shared/concurrency.ts";
import { parseClaimedRun } from "../_shared/claimed-run.ts";
import { badRequest, json, methodNotAllowed, readJsonBody, unauthorized } from "../_shared/http.ts";
import type { JobQueue } from "../_shared/job-queue.ts";
import { countsPerKind, routeFor, sliceLogFields, type SliceKind, type WorkerFunction } from "../_shared/kinds.ts";
import type { Logger } from "../_shared/log.ts";
import { describeIssues, type Slice } from "../_shared/slice.ts";

export interface OrchestratorDeps {
  queue: JobQueue;
  log: Logger;
  serviceKeys: readonly string[];
  leaseSeconds: number;
  maxRunsPerTick: number;
  /** Cap on runs in flight across all ticks, so claims follow the Alpaca budget. */
  maxInFlight: number;
  dispatchConcurrency: number;
  /** Invokes a worker function; resolves when it accepted the slice, throws otherwise. */
  invoke: (fn: WorkerFunction, slice: Slice) => Promise<void>;
  newWorkerId: () => string;
  redact: (text: string) => string;
}

const TickBody = z.object({
  maxRuns: z.number().int().min(1).max(100).optional(),
  tick: z.string().optional(),
}).strict();

type DispatchResult = { kind: string; outcome: "dispatched" | "dispatch_failed" | "unparseable" };

/** What a tick did; besides the totals, one count of claimed runs per kind (`single`, `batch`, ...). */
export type TickCounts = {
  requeued: number;
  /** Runs that were already running when this tick claimed. */
  in_flight: number;
  claimed: number;
  dispatched: number;
  failed: number;
  worker: string;
} & Record<SliceKind, number>;

export async function handle(req: Request, deps: OrchestratorDeps): Promise<Response> {
  if (req.method !== "POST") return methodNotAllowed();
  if (!isAuthorized(req, deps.serviceKeys)) return unauthorized();
  const body = await readJsonBody(req, 16 * 1024, {});
  if (!body.ok) return body.response;
  const parsed = TickBody.safeParse(body.value);
  if (!parsed.success) return badRequest(describeIssues(parsed.error));
  return json(200, await tick(deps, parsed.data.maxRuns ?? deps.maxRunsPerTick));
}

export async function tick(deps: OrchestratorDeps, maxRuns: number): Promise<TickCounts> {
  const worker = deps.newWorkerId();
  const requeued = await deps.queue.requeueExpired();
  // A tick claims only what the budget can serve soon: with pg_cron ticking once a
  // minute and a 1-second local scheduler alike, runs in flight stay near maxInFlight.
  const inFlight = await deps.queue.countRunning();
  const room = Math.max(0, Math.min(maxRuns, deps.maxInFlight - inFlight));
  const rows = room > 0 ? await deps.queue.claim(worker, room, deps.leaseSeconds) : [];
  const results = await mapLimit(rows, deps.dispatchConcurrency, async (row): Promise<DispatchResult> => {
    const claim = { runId: String(row.run_id), worker: row.locked_by, attempt: row.attempt };
    const parsed = parseClaimedRun(row);
    if (!parsed.ok) {
      // No guessing a route for a row we cannot read: the run fails with the parse error.
      const message = `cannot parse claimed run: ${parsed.error}`;
      await deps.queue.fail(claim, "permanent", message);
      deps.log.error("route", { run_id: claim.runId, kind: row.kind, outcome: "unparseable", error: message });
      return { kind: row.kind, outcome: "unparseable" };
    }
    const slice = parsed.slice;
    const route = routeFor(slice);
    deps.log.info("route", { ...sliceLogFields(slice), route });
    try {
      await deps.invoke(route, slice);
      return { kind: slice.kind, outcome: "dispatched" };
    } catch (err) {
      // Guarded by the claim: if the worker did finish the run, this changes nothing.
      const message = deps.redact(`dispatch to ${route} failed: ${(err as Error).message}`);
      await deps.queue.fail(claim, "retryable", message, { handledBy: route });
      deps.log.error("dispatch_failed", { ...sliceLogFields(slice), route, outcome: "dispatch_failed", error: message });
      return { kind: slice.kind, outcome: "dispatch_failed" };
    }
  });
  const perKind = countsPerKind(results.map((r) => r.kind));
  const totals = {
    requeued,
    in_flight: inFlight,
    claimed: rows.length,
    dispatched: results.filter((r) => r.outcome === "dispatched").length,
    failed: results.filter((r) => r.outcome !== "dispatched").length,
    worker,
  };
  const perKindLog = Object.fromEntries(Object.entries(perKind).map(([kind, n]) => [`${kind}_runs`, n]));
  deps.log.info("tick", { ...totals, ...perKindLog, outcome: "ok" });
  return { ...totals, ...perKind };
}
