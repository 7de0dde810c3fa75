/**
 * The SQL functions that grow a definition's range (plan_followed_backfill,
 * extend_job_definition, catch_up_followed_definitions) refuse a range that
 * would shrink, overlap another definition or move backwards in time with
 * SQLSTATE 22023 (invalid_parameter_value) or 23P01 (exclusion_violation), before
 * writing anything. For the CLI those are bad flag values: usage errors, exit 2.
 */
import { UsageError } from "./cli-errors.ts";

const RANGE_REFUSALS = new Set(["22023", "23P01"]);

export function rangeRefusal(err: unknown): never {
  const e = err as Error & { name?: string; code?: string };
  if (e?.name === "PostgresError" && e.code && RANGE_REFUSALS.has(e.code)) throw new UsageError(`refused: ${e.message}`);
  throw err;
}
