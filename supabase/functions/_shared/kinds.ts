/**
 * Every fact about a job kind, in one table: the Edge Function that runs it,
 * the body schema that function accepts, the Alpaca endpoint it calls, the
 * symbols it asks for, the fields its log lines carry, and how a claimed row
 * becomes its slice. The table is typed against Slice["kind"], so a kind
 * added to the Slice union without an entry here is a compile error, and
 * code that needs a per-kind fact reads it here instead of branching.
 */
import type { z } from "zod";
import type { BarsQuery } from "./alpaca/types.ts";
import type { LogFields } from "./log.ts";
import { BatchSlice, SingleSlice, type ClaimedRunRow, type Slice } from "./slice.ts";

export type SliceKind = Slice["kind"];
type SliceOf<K extends SliceKind> = Extract<Slice, { kind: K }>;

export interface KindSpec<K extends SliceKind, F extends string = string> {
  /** The Edge Function (folder under supabase/functions) that runs slices of this kind. */
  fn: F;
  /** What that function accepts as its body: exactly this kind, nothing else. */
  schema: z.ZodType<SliceOf<K>>;
  /** `single`: GET /v2/stocks/{symbol}/bars; `multi`: GET /v2/stocks/bars?symbols=. */
  endpoint: BarsQuery["endpoint"];
  symbols(slice: SliceOf<K>): string[];
  /** Kind-specific fields of every log line about the slice. */
  logFields(slice: SliceOf<K>): LogFields;
  /** The kind-specific part of a slice, read from a claimed row (validated by `schema` afterwards). */
  fromRow(row: ClaimedRunRow): Record<string, unknown>;
}

export const KINDS = {
  single: {
    fn: "fetch-bars",
    schema: SingleSlice,
    endpoint: "single",
    symbols: (s) => [s.symbol],
    logFields: (s) => ({ symbol: s.symbol }),
    fromRow: (row) => ({ symbol: row.name }),
  },
  batch: {
    fn: "fetch-bars-batch",
    schema: BatchSlice,
    endpoint: "multi",
    symbols: (s) => s.symbols,
    logFields: (s) => ({ batch: s.name, batch_size: s.symbols.length }),
    fromRow: (row) => ({ name: row.name, symbols: row.symbols }),
  },
} as const satisfies { [K in SliceKind]: KindSpec<K> };

export const SLICE_KINDS = Object.keys(KINDS) as SliceKind[];

export type WorkerFunction = (typeof KINDS)[SliceKind]["fn"];

/** The entry for a slice's kind, typed for that slice. */
export function kindOf<S extends Slice>(slice: S): KindSpec<S["kind"]> {
  return KINDS[slice.kind] as unknown as KindSpec<S["kind"]>;
}

export function isSliceKind(kind: string): kind is SliceKind {
  return Object.hasOwn(KINDS, kind);
}

/**
 * The only routing decision in the system: the kind's own function, never
 * inferred from how many symbols there are, never a fallback to another.
 */
export function routeFor(slice: Slice): WorkerFunction {
  return KINDS[slice.kind].fn;
}

/** Symbols a slice asks Alpaca for. */
export function sliceSymbols(slice: Slice): string[] {
  return kindOf(slice).symbols(slice);
}

/** The fields every log line about a slice carries. */
export function sliceLogFields(slice: Slice): LogFields {
  return { run_id: slice.runId, kind: slice.kind, ...kindOf(slice).logFields(slice), attempt: slice.attempt, claim: slice.worker };
}

/** `{ single: 0, batch: 0, ... }`: one counter per kind, from the table. */
export function countsPerKind(kinds: readonly string[]): Record<SliceKind, number> {
  const counts = Object.fromEntries(SLICE_KINDS.map((k) => [k, 0])) as Record<SliceKind, number>;
  for (const k of kinds) if (isSliceKind(k)) counts[k]++;
  return counts;
}
