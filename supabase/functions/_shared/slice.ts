/**
 * A claimed run, parsed once at the boundary into a discriminated union. The
 * route is decided by `kind` alone: never by how many symbols there are, and
 * never by falling back from one route to the other. A batch of one symbol is
 * a batch. Per-kind facts (route, endpoint, symbols, log fields) live in
 * kinds.ts; this file holds only the schemas.
 */
import { z } from "zod";
import { MAX_BASKET_SYMBOLS } from "./alpaca/config.ts";

export const TICKER = /^[A-Z]{1,6}(\.[A-Z]{1,3})?$/;
export const BASKET_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;
export const TIMEFRAME = /^(([1-9]|[1-5][0-9])Min|([1-9]|1[0-9]|2[0-3])Hour|1Day|1Week|(1|2|3|4|6|12)Month)$/;

export const Ticker = z.string().regex(TICKER, { error: "must be a ticker: upper-case letters, optional class suffix (BRK.B)" });
const Instant = z.iso.datetime({ offset: true, error: "must be an ISO-8601 timestamp" });

const SliceBase = z.object({
  runId: z.string().regex(/^\d+$/, { error: "must be a run id" }),
  jobDefId: z.string().regex(/^\d+$/, { error: "must be a definition id" }),
  attempt: z.number().int().positive(),
  /** The claim holder; every SQL transition of the run is guarded by it and the attempt. */
  worker: z.string().min(1).max(200),
  timeframe: z.string().regex(TIMEFRAME, { error: "must be an Alpaca timeframe such as 1Min, 1Hour, 1Day" }),
  feed: z.enum(["sip", "iex", "boats", "otc"]),
  adjustment: z.string().regex(/^(raw|split|dividend|spin-off|all)(,(raw|split|dividend|spin-off|all))*$/),
  sliceStart: Instant,
  sliceEnd: Instant,
  pageToken: z.string().min(1).max(1000).nullable(),
});

/** A slice is [sliceStart, sliceEnd): an empty or inverted one is refused before any I/O, like any bad field. */
const sliceIsNotEmpty = (s: { sliceStart: string; sliceEnd: string }) => Date.parse(s.sliceEnd) > Date.parse(s.sliceStart);
const sliceIsNotEmptyError = { error: "must be after sliceStart", path: ["sliceEnd"] };

export const SingleSlice = SliceBase.extend({
  kind: z.literal("single"),
  symbol: Ticker,
}).strict().refine(sliceIsNotEmpty, sliceIsNotEmptyError);

export const BatchSlice = SliceBase.extend({
  kind: z.literal("batch"),
  name: z.string().regex(BASKET_NAME, { error: "must be a basket name" }),
  symbols: z.array(Ticker).min(1).max(MAX_BASKET_SYMBOLS).refine((s) => new Set(s).size === s.length, { error: "must not repeat a symbol" }),
}).strict().refine(sliceIsNotEmpty, sliceIsNotEmptyError);

export const Slice = z.discriminatedUnion("kind", [SingleSlice, BatchSlice]);

export type SingleSlice = z.infer<typeof SingleSlice>;
export type BatchSlice = z.infer<typeof BatchSlice>;
export type Slice = z.infer<typeof Slice>;

/** A row returned by claim_job_runs(). */
export interface ClaimedRunRow {
  run_id: string | number;
  job_def_id: string | number;
  kind: string;
  name: string;
  symbols: unknown;
  timeframe: string;
  feed: string;
  adjustment: string;
  slice_start: Date | string;
  slice_end: Date | string;
  attempt: number;
  page_token: string | null;
  locked_by: string;
}

/** "field: message; field: message" — names the field, for 400s and error_message. */
export function describeIssues(error: z.ZodError): string {
  return error.issues
    .map((i) => `${i.path.length ? i.path.join(".") : "body"}: ${i.message}`)
    .join("; ");
}
