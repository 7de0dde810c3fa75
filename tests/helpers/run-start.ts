/**
 * Runs `npm start`'s entry (tsx scripts/start.ts) as a subprocess, non-TTY, in
 * its own process group with a private data directory, and reads what it prints.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { rm } from "node:fs/promises";
import { connect } from "node:net";
import { constants, tmpdir } from "node:os";
import { join } from "node:path";
import { countBars } from "../../scripts/alpaca-sim/ground-truth.ts";
import { REPO_ROOT } from "../../scripts/lib/local-host.ts";
import { SEED_BASKETS } from "../../scripts/lib/seed-baskets.ts";

const TSX = join(REPO_ROOT, "node_modules/.bin/tsx");

export interface StartProcess {
  child: ChildProcess;
  output(): string;
  /** Resolves with the first match of `pattern` in the output (waiting for it to appear). */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  /** Exit code (or 128 + signal number when killed). */
  exited: Promise<number>;
  /** SIGKILLs the whole process group (tsx, node, Deno, Postgres) if still around. */
  killAll(): void;
}

/** A data directory that does not exist yet, under the system temp dir (the `postgres` user can create it). */
export function newDataDir(): string {
  return join(tmpdir(), `npm-start-test-${randomBytes(4).toString("hex")}`);
}

export async function removeDataDir(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
}

export function runStart(args: string[], env: Record<string, string> = {}): StartProcess {
  const base = { ...process.env };
  // Isolated from whatever the test run itself uses: embedded Postgres, the simulator.
  for (const k of ["DATABASE_URL", "APCA_API_KEY_ID", "APCA_API_SECRET_KEY", "ALPACA_DATA_URL", "ALPACA_TRADING_URL", "FUNCTIONS_PORT"]) delete base[k];
  const child = spawn(TSX, ["scripts/start.ts", ...args], {
    cwd: REPO_ROOT,
    env: { ...base, EMBEDDED_PG_PORT: "0", NO_COLOR: "1", ...env },
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
  let text = "";
  const listeners = new Set<() => void>();
  const onData = (chunk: Buffer) => {
    text += chunk.toString("utf8");
    for (const l of listeners) l();
  };
  child.stdout!.on("data", onData);
  child.stderr!.on("data", onData);
  // 'exit' can come before the last lines are read from the pipes, 'close' only after them. A
  // process left holding the pipes would hold 'close' back for ever, so it gets 2 s past 'exit'.
  const exited = new Promise<number>((done) => {
    const exitCode = (code: number | null, signal: NodeJS.Signals | null) => code ?? 128 + (signal ? constants.signals[signal] : 0);
    child.once("exit", (code, signal) => setTimeout(() => done(exitCode(code, signal)), 2_000).unref());
    child.once("close", (code, signal) => done(exitCode(code, signal)));
  });
  return {
    child,
    output: () => text,
    waitFor(pattern, timeoutMs = 60_000) {
      return new Promise((done, fail) => {
        const check = () => {
          const m = text.match(pattern);
          if (!m) return false;
          listeners.delete(check);
          clearTimeout(timer);
          done(m);
          return true;
        };
        const timer = setTimeout(() => {
          listeners.delete(check);
          fail(new Error(`no ${pattern} within ${timeoutMs} ms; output so far:\n${text}`));
        }, timeoutMs);
        if (!check()) listeners.add(check);
        void exited.then(() => setTimeout(() => {
          if (listeners.delete(check)) {
            clearTimeout(timer);
            fail(new Error(`exited without printing ${pattern}; output:\n${text}`));
          }
        }, 50));
      });
    },
    exited,
    killAll() {
      try {
        process.kill(-child.pid!, "SIGKILL");
      } catch {
        // already gone
      }
    },
  };
}

export interface StatusRow {
  definition: string;
  kind: string;
  done: number;
  failed: number;
  total: number;
  bars: number;
}

/** The rows of the final status table. */
export function statusRows(output: string): StatusRow[] {
  const rows: StatusRow[] = [];
  for (const m of output.matchAll(/^(\S+)\s+(batch|single)\s+\S+\s+(\d+)\s+(\d+)\s+(\d+)\s+([\d,]+)$/gm)) {
    rows.push({ definition: m[1]!, kind: m[2]!, done: Number(m[3]), failed: Number(m[4]), total: Number(m[5]), bars: Number(m[6]!.replace(/,/g, "")) });
  }
  return rows;
}

/** Bars the simulator holds for the seed's baskets over [from, to) (1Min, sip, raw). */
export function seedGroundTruth(from: string, to: string): Map<string, number> {
  const end = new Date(Date.parse(`${to}T00:00:00Z`) - 1).toISOString();
  return new Map(SEED_BASKETS.map((b) => [b.name, countBars({
    symbols: b.symbols, timeframe: "1Min", feed: "sip", adjustment: "raw", start: `${from}T00:00:00Z`, end,
  })]));
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

export function portIsOpen(port: number): Promise<boolean> {
  return new Promise((done) => {
    const socket = connect({ port, host: "127.0.0.1" });
    socket.once("connect", () => (socket.destroy(), done(true)));
    socket.once("error", () => done(false));
  });
}
