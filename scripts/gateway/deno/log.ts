/**
 * The gateway's own log lines: one JSON object per line, fixed keys, never a
 * header or a key. Request lines and lifecycle go to stdout, problems to stderr.
 */
export type Level = "info" | "warn" | "error";

export function log(level: Level, msg: string, fields: Record<string, unknown> = {}): void {
  const line = JSON.stringify({ ts: new Date().toISOString(), level, src: "functions-gateway", msg, ...fields });
  if (level === "info") console.log(line);
  else console.error(line);
}

/** An error as text for a log line: the stack when there is one (it names the function's file). */
export function describeError(e: unknown): string {
  if (e instanceof Error) return e.stack ?? `${e.name}: ${e.message}`;
  try {
    return typeof e === "string" ? e : JSON.stringify(e);
  } catch {
    return String(e);
  }
}
