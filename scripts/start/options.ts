/**
 * What `npm start` does, from its flags and environment, validated once:
 * every problem is reported together, and no secret value appears in a message.
 */
import { resolve } from "node:path";
import { Command, InvalidArgumentError } from "commander";
import { z } from "zod";
import { SEED_BASKETS } from "../lib/seed-baskets.ts";
import { cronDatabaseProblem } from "./cron-scheduler.ts";
import { defaultDemoRange, demoStartFor, parseRangeBound } from "./range.ts";

/** Supabase's local database port, tried first for the embedded server. */
export const DEFAULT_EMBEDDED_PG_PORT = 54322;
export const DEFAULT_BASKET_SIZE = 50;

export interface Basket {
  name: string;
  symbols: string[];
}

export type SchedulerChoice = "auto" | "local" | "cron";

export interface StartOptions {
  baskets: Basket[];
  timeframe: string;
  feed: "sip" | "iex";
  rangeStart: Date;
  rangeEnd: Date;
  tickIntervalMs: number;
  maxRunsInFlight: number;
  scheduler: SchedulerChoice;
  /** npm start's own state: the embedded Postgres (`<dataDir>/pg`) and the functions' log. */
  dataDir: string;
  keepRunning: boolean;
  /** Plan followed definitions (no end) and keep them current with a daily catch-up until Ctrl-C. */
  follow: boolean;
  progressIntervalMs: number;
  env: StartEnv;
}

/** An integer variable whose every check reports the same message (naming the variable, never its value). */
const intVar = (message: string, min: number, max = Number.MAX_SAFE_INTEGER) =>
  z.coerce.number({ error: message }).int({ error: message }).min(min, { error: message }).max(max, { error: message });

const EnvSchema = z.object({
  DATABASE_URL: z.string().regex(/^postgres(ql)?:\/\//, { error: "DATABASE_URL must be a postgres:// connection string" }).optional(),
  APCA_API_KEY_ID: z.string().min(1).optional(),
  APCA_API_SECRET_KEY: z.string().min(1).optional(),
  ALPACA_DATA_URL: z.url({ error: "ALPACA_DATA_URL must be a URL" }).optional(),
  ALPACA_TRADING_URL: z.url({ error: "ALPACA_TRADING_URL must be a URL" }).optional(),
  ALPACA_REQUESTS_PER_MINUTE: intVar("ALPACA_REQUESTS_PER_MINUTE must be a positive integer", 1).default(200),
  ALPACA_FEED: z.enum(["sip", "iex"], { error: "ALPACA_FEED must be sip or iex" }).optional(),
  FUNCTIONS_PORT: intVar("FUNCTIONS_PORT must be a port number (0 = any free port)", 0, 65535).optional(),
  EMBEDDED_PG_PORT: intVar("EMBEDDED_PG_PORT must be a port number (0 = any free port)", 0, 65535).default(DEFAULT_EMBEDDED_PG_PORT),
  JOB_LEASE_SECONDS: intVar("JOB_LEASE_SECONDS must be a positive integer", 1).default(20),
  LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"], {
    error: "LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent",
  }).default("info"),
});

export type StartEnv = z.infer<typeof EnvSchema>;

const positiveNumber = (name: string) => (value: string): number => {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError(`${name} must be a positive number`);
  return n;
};

const positiveInteger = (name: string) => (value: string): number => {
  const n = positiveNumber(name)(value);
  if (!Number.isInteger(n)) throw new InvalidArgumentError(`${name} must be a whole number`);
  return n;
};

const rangeBound = (value: string): Date => {
  const d = parseRangeBound(value);
  if (!d) throw new InvalidArgumentError("expected YYYY-MM-DD (00:00 UTC) or an ISO timestamp");
  return d;
};

const TIMEFRAME = /^[1-9]\d*(Min|T|Hour|H|Day|D|Week|W|Month|M)$/;
const TICKER = /^[A-Z][A-Z0-9.\-/]{0,15}$/;

function parseSymbols(value: string): string[] {
  const symbols = [...new Set(value.split(/[,\s]+/).map((s) => s.trim().toUpperCase()).filter(Boolean))];
  if (symbols.length === 0) throw new InvalidArgumentError("give at least one ticker, e.g. AAPL,MSFT");
  const bad = symbols.filter((s) => !TICKER.test(s));
  if (bad.length > 0) throw new InvalidArgumentError(`not tickers: ${bad.join(", ")}`);
  return symbols;
}

/** A list of tickers as baskets of at most `size`, named `<prefix>_1`, `<prefix>_2`, … */
export function splitIntoBaskets(symbols: string[], size: number, prefix: string): Basket[] {
  const baskets: Basket[] = [];
  for (let i = 0; i < symbols.length; i += size) {
    baskets.push({ name: `${prefix}_${baskets.length + 1}`, symbols: symbols.slice(i, i + size) });
  }
  return baskets;
}

function readEnv(env: NodeJS.ProcessEnv, problems: string[]): StartEnv | undefined {
  const blankAsUnset = Object.fromEntries(
    Object.keys(EnvSchema.shape).map((k) => [k, env[k]?.trim() ? env[k]!.trim() : undefined]),
  );
  if ((blankAsUnset.APCA_API_KEY_ID === undefined) !== (blankAsUnset.APCA_API_SECRET_KEY === undefined)) {
    problems.push("set both APCA_API_KEY_ID and APCA_API_SECRET_KEY (real Alpaca), or neither (the simulator)");
  }
  const parsed = EnvSchema.safeParse(blankAsUnset);
  // Messages are ours (above), never the offending values.
  if (!parsed.success) problems.push(...parsed.error.issues.map((i) => i.message));
  return parsed.success ? parsed.data : undefined;
}

function program(): Command {
  return new Command()
    .name("npm start --")
    .description(
      "Brings up Postgres, the Alpaca simulator (or real Alpaca) and the Edge Functions, plans a backfill " +
        "and ticks the orchestrator until the queue drains, with live progress.",
    )
    .option("--from <date>", "start of the range, inclusive (default: 10 weeks before --to)", rangeBound)
    .option("--to <date>", "end of the range, exclusive (default: the most recent Sunday 00:00 UTC)", rangeBound)
    .option("--timeframe <tf>", "Alpaca timeframe: 1Min, 5Min, 1Hour, 1Day, ...", "1Min")
    .option("--symbols <list>", "comma-separated tickers instead of the seed's US_BATCH_1 and US_BATCH_2", parseSymbols)
    .option("--name <prefix>", "basket name prefix for --symbols", "CUSTOM")
    .option("--basket-size <n>", "most symbols per basket for --symbols", positiveInteger("--basket-size"), DEFAULT_BASKET_SIZE)
    .option("--feed <feed>", "sip or iex (default: ALPACA_FEED, else sip)")
    .option("--tick-interval <seconds>", "seconds between orchestrator ticks (own scheduler)", positiveNumber("--tick-interval"), 1)
    .option("--max-runs <n>", "most runs in flight at once; each tick claims the free room (1-100)", positiveInteger("--max-runs"), 4)
    .option("--scheduler <which>", "auto (pg_cron when the database can tick, else local), local, or cron (the database's pg_cron ticks this run's gateway)", "auto")
    .option("--data-dir <dir>", "where npm start keeps the embedded Postgres and the functions' log", ".data")
    .option("--progress-interval <seconds>", "seconds between progress lines when stdout is not a terminal", positiveNumber("--progress-interval"), 5)
    .option("--keep-running", "after the queue drains, keep everything up (to query it) until Ctrl-C", false)
    .option("--follow", "no end: backfill through the last completed session, then catch up every day until Ctrl-C", false)
    .showHelpAfterError("(npm start -- --help lists the options)")
    .exitOverride();
}

interface Flags {
  from?: Date;
  to?: Date;
  timeframe: string;
  symbols?: string[];
  name: string;
  basketSize: number;
  feed?: string;
  tickInterval: number;
  maxRuns: number;
  scheduler: string;
  dataDir: string;
  progressInterval: number;
  keepRunning: boolean;
  follow: boolean;
}

/** Throws commander's CommanderError for --help and bad flags (the caller exits with its code). */
export function parseOptions(argv: string[], env: NodeJS.ProcessEnv, now = new Date(), cwd = process.cwd()): StartOptions {
  const flags = program().parse(argv, { from: "user" }).opts<Flags>();
  const problems: string[] = [];
  const startEnv = readEnv(env, problems);

  const rangeEnd = flags.to ?? defaultDemoRange(now).end;
  const rangeStart = flags.from ?? demoStartFor(rangeEnd);
  if (flags.follow && flags.to) problems.push("--to is not for --follow: a followed backfill has no end; its daily catch-up extends it");
  else if (flags.follow && rangeStart >= now) problems.push("--from must be in the past with --follow: only completed sessions are followed");
  else if (!flags.follow && rangeEnd <= rangeStart) problems.push("--to must be after --from");
  if (!TIMEFRAME.test(flags.timeframe)) problems.push(`--timeframe ${JSON.stringify(flags.timeframe)} is not an Alpaca timeframe (1Min, 15Min, 1Hour, 1Day, ...)`);
  const feed = flags.feed ?? startEnv?.ALPACA_FEED ?? "sip";
  if (feed !== "sip" && feed !== "iex") problems.push("--feed must be sip or iex");
  if (!["auto", "local", "cron"].includes(flags.scheduler)) problems.push("--scheduler must be auto, local or cron");
  const cronProblem = flags.scheduler === "cron" ? cronDatabaseProblem(startEnv?.DATABASE_URL) : undefined;
  if (cronProblem) problems.push(cronProblem);
  if (flags.maxRuns > 100) problems.push("--max-runs must be at most 100");
  if (!/^[A-Za-z0-9][A-Za-z0-9_.-]{0,50}$/.test(flags.name)) problems.push("--name must be letters, digits, _ . -");
  if (problems.length > 0 || !startEnv) {
    throw new Error(`invalid options or environment:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
  }

  return {
    baskets: flags.symbols
      ? splitIntoBaskets(flags.symbols, flags.basketSize, flags.name)
      : SEED_BASKETS.map((b) => ({ name: b.name, symbols: [...b.symbols] })),
    timeframe: flags.timeframe,
    feed: feed as "sip" | "iex",
    rangeStart,
    rangeEnd,
    tickIntervalMs: Math.round(flags.tickInterval * 1000),
    maxRunsInFlight: flags.maxRuns,
    scheduler: flags.scheduler as SchedulerChoice,
    dataDir: resolve(cwd, flags.dataDir),
    keepRunning: flags.keepRunning,
    follow: flags.follow,
    progressIntervalMs: Math.round(flags.progressInterval * 1000),
    env: startEnv,
  };
}
