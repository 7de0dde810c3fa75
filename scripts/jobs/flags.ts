/**
 * zod validation of command-line flags, run before any I/O. The ticker, basket
 * and timeframe rules are the Edge Functions' own (slice.ts); messages name the
 * flag and, where one exists, the Postgres rule that would refuse the value.
 */
import { z } from "zod";
import { BASKET_NAME, TICKER, TIMEFRAME } from "../../supabase/functions/_shared/slice.ts";
import { nyMidnight, parseDay } from "../lib/market-calendar/index.ts";
import { UsageError } from "./cli-errors.ts";

export const Ticker = z.string().regex(TICKER, {
  error: (iss) => `"${String(iss.input)}" is not a ticker: upper-case letters with an optional class suffix such as BRK.B`,
});

export const BasketName = z.string().regex(BASKET_NAME, {
  error: (iss) => `"${String(iss.input)}" is not a basket name: letters, digits, _ . - (at most 64; rule batch_name_is_a_name)`,
});

export const Timeframe = z.string().regex(TIMEFRAME, {
  error: (iss) => `"${String(iss.input)}" is not an Alpaca timeframe such as 1Min, 5Min, 1Hour, 1Day (rule timeframe_is_alpaca_timeframe)`,
});

export const Feed = z.enum(["sip", "iex", "boats", "otc"], { error: "must be one of sip, iex, boats, otc (rule feed_is_known)" });

export const Adjustment = z.string().regex(/^(raw|split|dividend|spin-off|all)(,(raw|split|dividend|spin-off|all))*$/, {
  error: "must be raw, split, dividend, spin-off or all, or a comma-separated list of them (rule adjustment_is_known)",
});

const IsoWithOffset = z.iso.datetime({ offset: true });

/** YYYY-MM-DD is New York midnight of that day; anything else must be ISO-8601 with Z or an offset. */
export function parseInstant(text: string): Date | undefined {
  const day = parseDay(text);
  if (day !== undefined) return new Date(nyMidnight(day));
  return IsoWithOffset.safeParse(text).success ? new Date(text) : undefined;
}

export const Instant = z.string().transform((text, ctx) => {
  const date = parseInstant(text);
  if (date) return date;
  ctx.addIssue({ code: "custom", message: `"${text}" is not a date: use YYYY-MM-DD (New York midnight) or ISO-8601 with Z or an offset` });
  return z.NEVER;
});

/** A whole number given as a flag's string value. */
export function intFlag(min: number, max: number) {
  return z.string()
    .regex(/^-?\d+$/, { error: (iss) => `"${String(iss.input)}" is not a whole number` })
    .transform(Number)
    .pipe(z.number().min(min, { error: `must be at least ${min}` }).max(max, { error: `must be at most ${max}` }));
}

export const DefinitionId = intFlag(1, Number.MAX_SAFE_INTEGER);

const kebab = (key: string) => key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);

/** Where an issue points, as the user typed it: `--symbols[3]`. */
function flagOf(path: readonly PropertyKey[]): string {
  if (path.length === 0) return "flags";
  const [first, ...rest] = path;
  return `--${kebab(String(first))}${rest.map((p) => `[${String(p)}]`).join("")}`;
}

/** Parses flags or throws a UsageError listing every bad flag. */
export function parseFlags<S extends z.ZodType>(schema: S, raw: unknown): z.output<S> {
  const parsed = schema.safeParse(raw);
  if (parsed.success) return parsed.data;
  const lines = parsed.error.issues.map((i) => `${flagOf(i.path)}: ${i.message}`);
  throw new UsageError(lines.join("\n       "));
}
