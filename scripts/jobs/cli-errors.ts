/**
 * Errors and exit codes of the jobs CLI: 2 for usage errors (a bad flag or
 * value, caught before any I/O), 1 for runtime failures (database, network,
 * refusals by Postgres rules), 0 for success. Every message that leaves the
 * process goes through `maskSecrets`, so no password or key is ever printed.
 */
import { CommanderError } from "commander";

export const EXIT_OK = 0;
export const EXIT_RUNTIME = 1;
export const EXIT_USAGE = 2;

/** A bad flag or flag value; the message names the flag. */
export class UsageError extends Error {
  override name = "UsageError";
}

const secrets = new Set<string>();

/** Registers a value (a password, a key) that must never appear in output. */
export function registerSecret(value: string | undefined): void {
  if (value && value.length >= 3) secrets.add(value);
}

export function maskSecrets(text: string): string {
  let out = text.replace(/(postgres(?:ql)?:\/\/[^:/@\s]+:)[^@\s]+@/g, "$1***@");
  for (const s of secrets) out = out.split(s).join("***");
  return out;
}

interface PgErrorFields {
  name?: string;
  code?: string;
  constraint_name?: string;
  table_name?: string;
  detail?: string;
  hint?: string;
}

/** Postgres refusals, phrased for an operator: the rule's name first. */
export function describePgError(err: Error & PgErrorFields): string {
  if (err.code === "23514" && err.constraint_name) {
    return `Postgres refused it: rule ${err.constraint_name}${err.table_name ? ` on ${err.table_name}` : ""} (${err.message})`;
  }
  if (err.code === "23505") {
    const rule = err.constraint_name ? `rule ${err.constraint_name}: ` : "";
    return `Postgres refused it: ${rule}${err.message}${err.detail ? ` (${err.detail})` : ""}`;
  }
  const extra = [err.detail, err.hint].filter(Boolean).join("; ");
  return `Postgres error ${err.code ?? ""}: ${err.message}${extra ? ` (${extra})` : ""}`;
}

function isPgError(err: unknown): err is Error & PgErrorFields {
  return err instanceof Error && err.name === "PostgresError";
}

/** Prints the error the way an operator should read it and returns the exit code. */
export function reportError(err: unknown, write: (line: string) => void): number {
  if (err instanceof CommanderError) {
    // Commander already printed its message (or the help text).
    return err.exitCode === 0 ? EXIT_OK : EXIT_USAGE;
  }
  if (err instanceof UsageError) {
    write(`error: ${maskSecrets(err.message)}\n(run with --help for usage)`);
    return EXIT_USAGE;
  }
  if (isPgError(err)) {
    write(`error: ${maskSecrets(describePgError(err))}`);
    return EXIT_RUNTIME;
  }
  const e = err as Error & { code?: string };
  const code = e?.code && !String(e.message).includes(e.code) ? ` (${e.code})` : "";
  write(`error: ${maskSecrets(String(e?.message ?? err))}${code}`);
  return EXIT_RUNTIME;
}
