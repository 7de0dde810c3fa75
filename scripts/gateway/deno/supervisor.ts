/**
 * Watches one isolate every SAMPLE_INTERVAL_MS: its age, its CPU and RSS
 * from /proc, its last memory report (asked for when RSS grows or while it
 * is busy); judges them (supervision.ts) and carries out the verdict. Log
 * lines use the Edge Runtime supervisor's words.
 *
 * Invariants: a termination is logged and handed to the pool once; no
 * command is sent to an isolate the pool was told to terminate; readings
 * stop when the isolate exits.
 */
import {
  type Action,
  type EdgeLimits,
  freshState,
  judge,
  memoryEstimate,
  type Reading,
  SAMPLE_INTERVAL_MS,
  shouldAskMemory,
  type SupervisionState,
} from "../supervision.ts";
import type { IsolateProcess } from "./isolate.ts";
import { log } from "./log.ts";
import { readProcStats } from "./proc-stats.ts";

export interface SupervisorHooks {
  retire(): void;
  terminate(reason: "WallClockTime" | "CPUTime" | "Memory"): void;
  /** Called after every reading: the pool checks whether the isolate can be dropped early. */
  afterReading(): void;
}

export class IsolateSupervisor {
  readonly state: SupervisionState = freshState();
  /** The latest reading, for the shutdown line. */
  last: Reading & { rssBytes: number } = { ageMs: 0, cpuMs: 0, memoryBytes: 0, rssBytes: 0 };
  readonly #timer: ReturnType<typeof setInterval>;

  constructor(
    private readonly limits: EdgeLimits,
    private readonly isolate: IsolateProcess,
    private readonly hooks: SupervisorHooks,
  ) {
    this.#timer = setInterval(() => this.tick(), SAMPLE_INTERVAL_MS);
    void isolate.exited.then(() => this.stop());
  }

  stop(): void {
    clearInterval(this.#timer);
  }

  tick(): void {
    const iso = this.isolate;
    const stats = readProcStats(iso.pid);
    // Gone, or exited and not yet reaped (a zombie's statm is all zeros).
    if (!stats || stats.rssBytes === 0) return;
    const now = Date.now();
    const { report, at, askedAt } = iso.memory;
    // Before its first report (at boot) the baseline is unknown; V8's heap cap guards the boot.
    const memoryBytes = at === 0 ? 0 : memoryEstimate(
      { total: report.heap + report.external, askedMsAgo: askedAt === null ? null : now - askedAt },
      stats.rssBytes,
      iso.rssBaselineBytes,
    );
    const busy = iso.inFlight > 0 || iso.pendingTasks > 0;
    if (at !== 0 && shouldAskMemory({ rssBytes: stats.rssBytes, reportedRssBytes: report.rss, reportAgeMs: now - at, busy, asking: askedAt !== null })) {
      iso.askMemory();
    }
    this.last = { ageMs: iso.ageMs, cpuMs: stats.cpuMs, memoryBytes, rssBytes: stats.rssBytes };
    for (const action of judge(this.limits, this.last, this.state)) this.#apply(action);
    if (!this.state.terminating) this.hooks.afterReading();
  }

  #apply(action: Action): void {
    const iso = this.isolate;
    const fields = { fn: iso.fn, isolate: iso.id, pid: iso.pid, age_ms: this.last.ageMs, cpu_ms: this.last.cpuMs };
    const tag = `isolate: ${iso.id}`;
    switch (action.kind) {
      case "beforeunload":
        iso.send({ cmd: "beforeunload", reason: action.reason });
        return;
      case "retire":
        log("warn", action.cause === "wall_clock" ? `wall clock duration warning: ${tag}` : `CPU time soft limit reached: ${tag}`, fields);
        this.hooks.retire();
        return;
      case "terminate": {
        const msg = action.reason === "WallClockTime"
          ? `wall clock duration reached: ${tag} (in_flight_req_exists = ${iso.inFlight > 0})`
          : action.reason === "CPUTime"
          ? `CPU time hard limit reached: ${tag}`
          : `memory limit reached for the worker: ${tag}`;
        log("error", msg, { ...fields, memory_bytes: this.last.memoryBytes });
        this.hooks.terminate(action.reason);
        return;
      }
    }
  }
}
