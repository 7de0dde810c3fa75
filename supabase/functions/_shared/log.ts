/**
 * One JSON line per event with fixed keys: fn, run_id, kind, symbol | batch +
 * batch_size, attempt, pages, bars, duration_ms, outcome, error. Known secret
 * values are masked in every line, whatever field they end up in.
 */
import pino from "pino";

export interface LogFields {
  run_id?: string;
  kind?: string;
  symbol?: string;
  batch?: string;
  batch_size?: number;
  attempt?: number;
  /** The claim holder (one per tick that claimed the run): with run_id and attempt, one claim. */
  claim?: string;
  pages?: number;
  bars?: number;
  requests?: number;
  duration_ms?: number;
  outcome?: string;
  route?: string;
  error?: string;
  [key: string]: unknown;
}

export interface Logger {
  info(event: string, fields?: LogFields): void;
  warn(event: string, fields?: LogFields): void;
  error(event: string, fields?: LogFields): void;
  debug(event: string, fields?: LogFields): void;
}

export function maskSecrets(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const s of secrets) if (s) out = out.split(s).join("[REDACTED]");
  return out;
}

export interface LoggerOptions {
  fn: string;
  level?: string;
  secrets?: readonly string[];
  /** Where lines go; defaults to stdout. Tests capture them here. */
  write?: (line: string) => void;
}

export function createLogger(opts: LoggerOptions): Logger {
  const secrets = opts.secrets ?? [];
  const write = opts.write ?? ((line: string) => console.log(line));
  const base = pino(
    {
      level: opts.level ?? "info",
      base: { fn: opts.fn },
      messageKey: "event",
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: { paths: ["apikey", "authorization", "headers", "*.apikey", "*.authorization"], censor: "[REDACTED]" },
      formatters: { level: (label) => ({ level: label }) },
    },
    { write: (line: string) => write(maskSecrets(line.trimEnd(), secrets)) },
  );
  return {
    info: (event, fields) => base.info(fields ?? {}, event),
    warn: (event, fields) => base.warn(fields ?? {}, event),
    error: (event, fields) => base.error(fields ?? {}, event),
    debug: (event, fields) => base.debug(fields ?? {}, event),
  };
}
