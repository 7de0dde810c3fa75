/**
 * `create`'s flags, validated as a whole before the database is touched, and
 * turned into the definitions to plan. `kind` is always given, never inferred:
 * a batch of one symbol is a batch, and a basket name is never a single's symbol.
 */
import { z } from "zod";
import { MAX_BASKET_SYMBOLS } from "../../supabase/functions/_shared/alpaca/config.ts";
import { BASKET_NAME, TICKER } from "../../supabase/functions/_shared/slice.ts";
import { Adjustment, BasketName, Feed, Instant, intFlag, parseFlags, Ticker, Timeframe } from "./flags.ts";
import { type Basket, duplicatesOf, splitIntoBaskets } from "./symbols-input.ts";
import { DEFAULT_EXCHANGES, EQUITY_EXCHANGES } from "./universe.ts";

/** The most symbols one basket may hold: one request for all of them must fit Alpaca's 8 KiB request line. */
export const MAX_BASKET_SIZE = MAX_BASKET_SYMBOLS;

const SingleTicker = z.string().regex(TICKER, {
  error: (iss) =>
    `"${String(iss.input)}" is not a ticker (rule single_symbol_is_a_ticker): a single-symbol definition takes one ` +
    "ticker such as AAPL or BRK.B; a basket such as US_BATCH_1 is --kind batch --name <NAME> --symbols …",
});

const Exchange = z.string().refine((e) => (EQUITY_EXCHANGES as readonly string[]).includes(e), {
  error: (iss) => `unknown exchange "${String(iss.input)}": one of ${EQUITY_EXCHANGES.join(", ")} (Alpaca's exchanges for US equities)`,
});

const CreateFlags = z.object({
  kind: z.enum(["single", "batch"], { error: "must be single or batch" }),
  universe: z.boolean().optional(),
  status: z.enum(["active", "inactive", "any"], { error: "must be active, inactive or any" }).optional(),
  assetClass: z.literal("us_equity", {
    error: "only us_equity: the bars this project fetches are Alpaca's stock bars (crypto and options have other endpoints)",
  }).optional(),
  exchange: z.array(Exchange).min(1, { error: "needs at least one exchange" }).optional(),
  includeNonTradable: z.boolean().optional(),
  symbol: SingleTicker.optional(),
  symbols: z.array(Ticker).optional(),
  symbolsFile: z.array(Ticker).optional(),
  name: BasketName.optional(),
  prefix: z.string().min(1).optional(),
  basketSize: intFlag(1, MAX_BASKET_SIZE),
  from: Instant,
  to: Instant.optional(),
  follow: z.boolean(),
  until: Instant.optional(),
  timeframe: Timeframe,
  feed: Feed,
  adjustment: Adjustment,
  priority: intFlag(-1_000_000, 1_000_000),
  maxAttempts: intFlag(1, 100),
  targetBars: intFlag(100, 10_000_000),
}).superRefine((f, ctx) => {
  const issue = (path: string, message: string) => ctx.addIssue({ code: "custom", path: [path], message });
  if (f.follow) {
    if (f.to !== undefined) issue("to", "not with --follow: a followed definition has no end; its catch-up extends it every day");
    if (f.from >= (f.until ?? new Date())) issue("from", "must be in the past with --follow: only completed sessions are followed");
  } else {
    if (f.to === undefined) issue("to", "required (or --follow, for a definition kept current every day)");
    else if (f.to <= f.from) issue("to", "must be after --from (the end is exclusive; rule range_is_not_empty)");
    if (f.until !== undefined) issue("until", "only with --follow (it stands for the present when planning a followed definition)");
  }
  if (!f.universe) {
    for (const flag of ["status", "assetClass", "exchange", "includeNonTradable"] as const) {
      if (f[flag] !== undefined) issue(flag, "filters Alpaca's asset list: only with --universe");
    }
  }
  if (f.kind === "single") {
    if (!f.symbol) issue("symbol", "required with --kind single");
    for (const flag of ["symbols", "symbolsFile", "name", "prefix", "universe"] as const) {
      if (f[flag] !== undefined) issue(flag, "only for --kind batch (a single-symbol definition is named by its --symbol)");
    }
    return;
  }
  if (f.symbol !== undefined) issue("symbol", "only for --kind single; a batch takes --symbols or --symbols-file");
  const all = [...(f.symbols ?? []), ...(f.symbolsFile ?? [])];
  const dup = duplicatesOf(all);
  if (dup.length) issue("symbols", `listed more than once: ${dup.join(", ")} (rule batch_symbols_are_unique)`);
  if (f.universe) {
    if (f.prefix === undefined) issue("prefix", "--universe makes baskets <prefix>_1 … <prefix>_k: give --prefix");
    if (f.name !== undefined) issue("name", "--universe names its baskets from --prefix; --name is for one hand-made basket");
    if (f.prefix !== undefined && !BASKET_NAME.test(`${f.prefix}_1000`)) {
      issue("prefix", `"${f.prefix}" makes basket names like ${f.prefix}_1, which break rule batch_name_is_a_name`);
    }
    return;
  }
  if (all.length === 0) issue("symbols", "a batch needs symbols: --symbols A,B,C or --symbols-file <path> (or --universe)");
  if ((f.name === undefined) === (f.prefix === undefined)) {
    issue("name", "a batch needs exactly one of --name <BASKET> or --prefix <P> (baskets P_1…P_k)");
  }
  if (f.name !== undefined && all.length > f.basketSize) {
    issue("symbols", `${all.length} symbols exceed --basket-size ${f.basketSize}: use --prefix to split them, or raise --basket-size`);
  }
  if (f.prefix !== undefined) {
    const last = `${f.prefix}_${Math.max(1, Math.ceil(all.length / f.basketSize))}`;
    if (!BASKET_NAME.test(last)) issue("prefix", `"${f.prefix}" makes basket names like ${last}, which break rule batch_name_is_a_name`);
  }
});

export type CreateFlags = z.output<typeof CreateFlags>;

export interface RawCreateOptions {
  kind?: string;
  universe?: boolean;
  status?: string;
  assetClass?: string;
  exchange?: string[];
  includeNonTradable?: boolean;
  symbol?: string;
  symbols?: string[];
  symbolsFile?: string[];
  name?: string;
  prefix?: string;
  basketSize: string;
  from?: string;
  to?: string;
  follow?: boolean;
  until?: string;
  timeframe: string;
  feed: string;
  adjustment: string;
  priority: string;
  maxAttempts: string;
  targetBars: string;
}

export interface PlannedDefinition {
  kind: "single" | "batch";
  /** The ticker for a single, the basket's name for a batch. */
  name: string;
  /** null for a single (its symbols_array is null). */
  symbols: string[] | null;
}

export function validateCreateFlags(raw: RawCreateOptions): CreateFlags {
  return parseFlags(CreateFlags, { ...raw, follow: Boolean(raw.follow) });
}

/** The --universe filters with their defaults: active, us_equity, tradable, the five US exchanges. */
export function universeFilter(f: CreateFlags) {
  const only = [...(f.symbols ?? []), ...(f.symbolsFile ?? [])];
  return {
    status: f.status ?? "active",
    assetClass: f.assetClass ?? "us_equity",
    exchanges: f.exchange ?? [...DEFAULT_EXCHANGES],
    tradableOnly: !f.includeNonTradable,
    only: only.length ? only : undefined,
  } as const;
}

export function definitionsToPlan(f: CreateFlags): PlannedDefinition[] {
  if (f.kind === "single") return [{ kind: "single", name: f.symbol!, symbols: null }];
  const all = [...(f.symbols ?? []), ...(f.symbolsFile ?? [])];
  const baskets: Basket[] = f.name !== undefined ? [{ name: f.name, symbols: all }] : splitIntoBaskets(f.prefix!, all, f.basketSize);
  return baskets.map((b) => ({ kind: "batch", name: b.name, symbols: b.symbols }));
}

/** The end of the range the calendar is read for: a followed definition's is the present (or --until). */
export function plannedRangeEnd(f: CreateFlags): Date {
  return f.to ?? f.until ?? new Date();
}
