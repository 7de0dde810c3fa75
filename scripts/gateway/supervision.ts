/**
 * The isolate supervisor's rules, after the Edge Runtime's per_worker policy
 * (`strategy_per_worker.rs`), as pure functions: the gateway feeds them one
 * reading of an isolate at a time and carries out what they return. Free of
 * Deno.* and node:* so vitest tests them.
 *
 * Invariants:
 * - every limit is counted over the isolate's whole life: wall clock from its
 *   start, CPU accumulated across every request and background task it ran;
 * - retirement is one-way: a retired isolate never takes a request again;
 * - each `beforeunload` reason (wall_clock, cpu, memory) is dispatched at most
 *   once per isolate, and never after the isolate was told to terminate;
 * - a termination outranks everything else found in the same reading.
 */
import type { BeforeunloadReason, ShutdownReason } from "./platform.ts";

export interface EdgeLimits {
  wallClockMs: number;
  cpuSoftMs: number;
  cpuHardMs: number;
  memoryMb: number;
  /** Share of the wall clock, the CPU hard limit and the memory limit at which `beforeunload` fires. */
  beforeunloadRatio: number;
}

/** The hosted free plan (the Supabase CLI's local main worker uses the same CPU limits). */
export const DEFAULT_LIMITS: EdgeLimits = {
  wallClockMs: 150_000,
  cpuSoftMs: 1_000,
  cpuHardMs: 2_000,
  memoryMb: 256,
  beforeunloadRatio: 0.9,
};

type GetEnv = (name: string) => string | undefined;

function numberVar(get: GetEnv, name: string, fallback: number, errors: string[], check: (n: number) => boolean, rule: string): number {
  const raw = get(name);
  if (raw === undefined || raw.trim() === "") return fallback;
  const n = Number(raw);
  if (!check(n)) {
    errors.push(`${name} must be ${rule}, got ${JSON.stringify(raw)}`);
    return fallback;
  }
  return n;
}

const intIn = (min: number, max: number) => (n: number) => Number.isInteger(n) && n >= min && n <= max;

/**
 * Reads EDGE_WALL_CLOCK_MS (alias FUNCTIONS_WALL_CLOCK_MS), EDGE_CPU_SOFT_MS,
 * EDGE_CPU_HARD_MS, EDGE_MEMORY_MB and EDGE_BEFOREUNLOAD_RATIO; every problem
 * goes to `errors`.
 */
export function parseEdgeLimits(get: GetEnv, errors: string[]): EdgeLimits {
  const d = DEFAULT_LIMITS;
  const ms = "an integer number of milliseconds in [1, 86400000]";
  const edgeWall = get("EDGE_WALL_CLOCK_MS")?.trim();
  const aliasWall = get("FUNCTIONS_WALL_CLOCK_MS")?.trim();
  if (edgeWall && aliasWall && edgeWall !== aliasWall) {
    errors.push(`EDGE_WALL_CLOCK_MS (${edgeWall}) and its alias FUNCTIONS_WALL_CLOCK_MS (${aliasWall}) disagree`);
  }
  const wallVar = edgeWall ? "EDGE_WALL_CLOCK_MS" : "FUNCTIONS_WALL_CLOCK_MS";
  const limits: EdgeLimits = {
    wallClockMs: numberVar(get, wallVar, d.wallClockMs, errors, intIn(1, 86_400_000), ms),
    cpuSoftMs: numberVar(get, "EDGE_CPU_SOFT_MS", d.cpuSoftMs, errors, intIn(1, 86_400_000), ms),
    cpuHardMs: numberVar(get, "EDGE_CPU_HARD_MS", d.cpuHardMs, errors, intIn(1, 86_400_000), ms),
    memoryMb: numberVar(get, "EDGE_MEMORY_MB", d.memoryMb, errors, intIn(16, 65_536), "an integer number of MiB in [16, 65536]"),
    beforeunloadRatio: numberVar(
      get,
      "EDGE_BEFOREUNLOAD_RATIO",
      d.beforeunloadRatio,
      errors,
      (n) => Number.isFinite(n) && n >= 0 && n <= 0.99,
      "a number in [0, 0.99] (the runtime accepts 0-99 %)",
    ),
  };
  if (limits.cpuSoftMs > limits.cpuHardMs) {
    errors.push(`EDGE_CPU_SOFT_MS (${limits.cpuSoftMs}) must not exceed EDGE_CPU_HARD_MS (${limits.cpuHardMs})`);
  }
  return limits;
}

/** One look at an isolate. */
export interface Reading {
  ageMs: number;
  cpuMs: number;
  memoryBytes: number;
}

/** What the supervisor remembers about one isolate between readings. */
export interface SupervisionState {
  /** Why it stopped taking requests, once it has. */
  retired: "wall_clock" | "cpu" | "termination" | null;
  /** Memory at or above half the limit in the latest reading (the runtime lowers it again when memory falls). */
  memoryAlert: boolean;
  /** `beforeunload` reasons already dispatched. */
  warned: Set<BeforeunloadReason>;
  terminating: ShutdownReason | null;
}

export function freshState(): SupervisionState {
  return { retired: null, memoryAlert: false, warned: new Set(), terminating: null };
}

export type Action =
  | { kind: "retire"; cause: "wall_clock" | "cpu" }
  | { kind: "beforeunload"; reason: "wall_clock" | "cpu" | "memory" }
  | { kind: "terminate"; reason: "WallClockTime" | "CPUTime" | "Memory" };

/** Applies one reading to `state` (mutated) and returns what to do, in order. */
export function judge(limits: EdgeLimits, reading: Reading, state: SupervisionState): Action[] {
  if (state.terminating) return [];
  const memoryLimit = limits.memoryMb * 1024 * 1024;
  const terminate = reading.ageMs >= limits.wallClockMs
    ? "WallClockTime"
    : reading.cpuMs >= limits.cpuHardMs
    ? "CPUTime"
    : reading.memoryBytes >= memoryLimit
    ? "Memory"
    : null;
  if (terminate) {
    state.terminating = terminate;
    return [{ kind: "terminate", reason: terminate }];
  }
  const actions: Action[] = [];
  const ratio = limits.beforeunloadRatio;
  const warn = (reason: "wall_clock" | "cpu" | "memory", reached: boolean) => {
    if (!reached || state.warned.has(reason)) return;
    state.warned.add(reason);
    actions.push({ kind: "beforeunload", reason });
  };
  warn("wall_clock", reading.ageMs >= ratio * limits.wallClockMs);
  warn("cpu", reading.cpuMs >= ratio * limits.cpuHardMs);
  warn("memory", reading.memoryBytes >= ratio * memoryLimit);
  state.memoryAlert = reading.memoryBytes >= memoryLimit / 2;
  if (!state.retired) {
    const cause = reading.ageMs >= limits.wallClockMs / 2 ? "wall_clock" : reading.cpuMs >= limits.cpuSoftMs ? "cpu" : null;
    if (cause) {
      state.retired = cause;
      actions.push({ kind: "retire", cause });
    }
  }
  return actions;
}

/** Retired or under a memory alert, nothing in flight, no background work pending: the runtime drops it early. */
export function canEarlyDrop(state: SupervisionState, inFlight: number, pendingTasks: number): boolean {
  return !state.terminating && (state.retired !== null || state.memoryAlert) && inFlight === 0 && pendingTasks === 0;
}

/** How often the gateway reads an isolate's CPU and RSS. */
export const SAMPLE_INTERVAL_MS = 50;
/**
 * The isolate reports its V8 heap and external memory only when asked (a
 * timer inside it would cost it CPU it is charged for): when its RSS has
 * grown this much since its last report...
 */
export const MEMORY_ASK_GROWTH_BYTES = 2 * 1024 * 1024;
/** ...or this long after its last report while it has requests or background work. */
export const MEMORY_ASK_BUSY_MS = 1_000;
/** An asked report this late means the isolate is too busy to answer: its RSS is used as well. */
export const MEMORY_REPORT_STALE_MS = 2 * SAMPLE_INTERVAL_MS;

/**
 * The isolate's memory as the runtime counts it (V8 used heap + external),
 * from its own latest report. A process that leaves a report request
 * unanswered is judged by its RSS minus the non-JS part measured at boot,
 * never less than its last report.
 */
export function memoryEstimate(
  report: { total: number; /** How long an asked report has been outstanding; null when none is. */ askedMsAgo: number | null },
  rssBytes: number,
  rssBaselineBytes: number,
): number {
  if (report.askedMsAgo === null || report.askedMsAgo <= MEMORY_REPORT_STALE_MS) return report.total;
  return Math.max(report.total, rssBytes - rssBaselineBytes);
}

/** Whether to ask the isolate for a memory report now. */
export function shouldAskMemory(
  o: { rssBytes: number; reportedRssBytes: number; reportAgeMs: number; busy: boolean; asking: boolean },
): boolean {
  if (o.asking) return false;
  return o.rssBytes >= o.reportedRssBytes + MEMORY_ASK_GROWTH_BYTES || (o.busy && o.reportAgeMs >= MEMORY_ASK_BUSY_MS);
}
