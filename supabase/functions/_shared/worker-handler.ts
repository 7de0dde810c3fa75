/**
 * The HTTP face of every worker function: POST only, the service key, a body
 * that parses as exactly this function's slice kind (a batch sent to
 * fetch-bars is a 400, never a guess), then the slice runs in the background
 * (EdgeRuntime.waitUntil) and the caller gets 202 at once.
 */
import { isAuthorized } from "./auth.ts";
import { badRequest, json, methodNotAllowed, readJsonBody, unauthorized } from "./http.ts";
import { KINDS, sliceLogFields, type SliceKind } from "./kinds.ts";
import { runSlice, type SliceDeps } from "./run-slice.ts";
import { describeIssues } from "./slice.ts";

export interface WorkerDeps extends SliceDeps {
  serviceKeys: readonly string[];
  /** Keeps background work alive after the response (Edge Runtime); absent = run inline. */
  waitUntil?: (work: Promise<unknown>) => void;
}

const MAX_BODY_BYTES = 256 * 1024;

export function makeWorkerHandler(kind: SliceKind) {
  const { fn, schema } = KINDS[kind];
  return async function handle(req: Request, deps: WorkerDeps): Promise<Response> {
    if (req.method !== "POST") return methodNotAllowed();
    if (!isAuthorized(req, deps.serviceKeys)) return unauthorized();
    const body = await readJsonBody(req, MAX_BODY_BYTES);
    if (!body.ok) return body.response;
    if (body.value === undefined) return badRequest("body: a slice is required");
    const parsed = schema.safeParse(body.value);
    if (!parsed.success) {
      const message = describeIssues(parsed.error);
      deps.log.warn("bad_request", { outcome: "rejected", error: message });
      return badRequest(message);
    }
    const slice = parsed.data;
    deps.budget.sliceArrived();
    deps.log.info("slice_accepted", { ...sliceLogFields(slice), route: fn });
    const work = runSlice(slice, deps);
    if (deps.waitUntil) {
      deps.waitUntil(work);
      return json(202, { accepted: true, run_id: slice.runId, fn });
    }
    const outcome = await work;
    return json(200, { accepted: true, run_id: slice.runId, fn, outcome });
  };
}
