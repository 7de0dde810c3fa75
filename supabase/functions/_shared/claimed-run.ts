/**
 * A row claimed by claim_job_runs(), parsed into a Slice at the boundary. A
 * row that does not parse (an unknown kind, a basket name where a ticker
 * belongs) is reported with the field at fault, never routed by guesswork.
 */
import { isSliceKind, KINDS, SLICE_KINDS } from "./kinds.ts";
import { describeIssues, type ClaimedRunRow, type Slice } from "./slice.ts";

const iso = (v: Date | string) => (v instanceof Date ? v.toISOString() : v);

/** Parses a claimed row into a Slice, or returns the reason it cannot be parsed. */
export function parseClaimedRun(row: ClaimedRunRow): { ok: true; slice: Slice } | { ok: false; error: string } {
  if (!isSliceKind(row.kind)) {
    return { ok: false, error: `kind: must be one of ${SLICE_KINDS.join(", ")}, got ${JSON.stringify(row.kind)}` };
  }
  const spec = KINDS[row.kind];
  const candidate = {
    kind: row.kind,
    runId: String(row.run_id),
    jobDefId: String(row.job_def_id),
    attempt: row.attempt,
    worker: row.locked_by,
    timeframe: row.timeframe,
    feed: row.feed,
    adjustment: row.adjustment,
    sliceStart: iso(row.slice_start),
    sliceEnd: iso(row.slice_end),
    pageToken: row.page_token,
    ...spec.fromRow(row),
  };
  const parsed = spec.schema.safeParse(candidate);
  return parsed.success ? { ok: true, slice: parsed.data } : { ok: false, error: describeIssues(parsed.error) };
}
