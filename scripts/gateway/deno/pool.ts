/**
 * The isolates of one function, routed like the Edge Runtime's per_worker
 * pool: the active isolate takes every request, concurrently, until it is
 * retired; the next request then starts a new one, while the retired ones
 * finish what they have and end on their own (early drop) or at a limit.
 *
 * Invariants:
 * - at most one isolate is active (booting or serving); retired ones never get a request;
 * - a request counts as in flight on its isolate from the moment it is
 *   assigned (before the boot finishes) until its response is forwarded in
 *   full, so an isolate is never dropped with a request on its way to it;
 * - `drop` is sent only when the gateway sees nothing in flight and no
 *   pending background work, and never to the active isolate: it is retired
 *   first, so nothing new is routed to it while the isolate confirms;
 * - an isolate that ends for any reason is counted, logged and forgotten
 *   once; the next request starts a fresh one, with no limit on how often.
 */
import type { ShutdownReason } from "../platform.ts";
import { canEarlyDrop, type EdgeLimits } from "../supervision.ts";
import { describeStatus, IsolateProcess, type IsolateSpawnOptions } from "./isolate.ts";
import { log } from "./log.ts";
import { IsolateSupervisor } from "./supervisor.ts";
import type { Tally } from "./tally.ts";

/** How long an isolate told to drop gets to exit by itself before it is killed. */
const DROP_GRACE_MS = 2_000;

export interface Member {
  isolate: IsolateProcess;
  supervisor: IsolateSupervisor;
  /** Why the gateway ended it, once it decided to. */
  endReason: ShutdownReason | null;
  dropping: boolean;
  /** Aborted when the isolate exits: proxied requests to it fail at once. */
  cut: AbortController;
  /** The reason it ended, once it has exited. */
  ended: Promise<ShutdownReason>;
}

export class FunctionPool {
  status: "not_started" | "ready" | "boot_error" = "not_started";
  error: string | undefined;
  #active: Member | null = null;
  readonly #retired = new Set<Member>();
  #shuttingDown = false;

  constructor(
    readonly name: string,
    private readonly limits: EdgeLimits,
    private readonly spawnOptions: () => IsolateSpawnOptions,
    readonly tally: Tally,
  ) {}

  get counts(): { active: number; retired: number } {
    return { active: this.#active ? 1 : 0, retired: this.#retired.size };
  }

  members(): Member[] {
    return [...(this.#active ? [this.#active] : []), ...this.#retired];
  }

  /**
   * Assigns a request to the active isolate (starting one if needed) and waits
   * for its boot. When the boot failed, the request is already released.
   */
  async assign(): Promise<{ member: Member; booted: boolean }> {
    const member = this.#active ?? this.#start();
    member.isolate.inFlight++;
    const outcome = await member.isolate.ready;
    if (!outcome.ok) member.isolate.inFlight--;
    return { member, booted: outcome.ok };
  }

  /** The response to a request assigned with `assign` has been forwarded in full (or failed). */
  release(member: Member): void {
    member.isolate.inFlight--;
    this.#maybeDrop(member);
  }

  /** Every isolate hears `beforeunload` (termination), stops taking requests and ends once idle. */
  shutdown(): void {
    this.#shuttingDown = true;
    for (const m of this.members()) {
      if (m.endReason) continue;
      m.isolate.send({ cmd: "beforeunload", reason: "termination" });
      m.supervisor.state.retired ??= "termination";
      this.#retire(m, false);
      this.#maybeDrop(m);
    }
  }

  /** Kills what is still running (the shutdown deadline passed). */
  killAll(): void {
    for (const m of this.members()) this.#terminate(m, "TerminationRequested");
  }

  #start(): Member {
    const isolate = new IsolateProcess(this.spawnOptions());
    this.tally.countStart();
    // The hooks run on later ticks only, once `member` exists.
    const supervisor = new IsolateSupervisor(this.limits, isolate, {
      retire: () => this.#retire(member, true),
      terminate: (reason) => this.#terminate(member, reason),
      afterReading: () => this.#maybeDrop(member),
    });
    const member: Member = {
      isolate,
      supervisor,
      endReason: null,
      dropping: false,
      cut: new AbortController(),
      ended: isolate.exited.then((s) => this.#onExit(member, s)),
    };
    isolate.onReport = (report) => {
      if (report.t === "busy") member.dropping = false;
      if (report.t === "tasks" || report.t === "busy") this.#maybeDrop(member);
    };
    void isolate.ready.then((outcome) => {
      if (outcome.ok) this.status = "ready";
    });
    this.#active = member;
    return member;
  }

  #retire(member: Member, counted: boolean): void {
    if (this.#active === member) this.#active = null;
    if (member.endReason) return;
    if (!this.#retired.has(member) && counted) this.tally.countRetire();
    this.#retired.add(member);
  }

  #terminate(member: Member, reason: ShutdownReason): void {
    if (member.endReason) return;
    member.endReason = reason;
    member.supervisor.state.terminating ??= reason;
    this.#retire(member, false);
    member.isolate.kill();
  }

  #maybeDrop(member: Member): void {
    const { isolate, supervisor } = member;
    if (member.dropping || member.endReason || !isolate.port) return;
    if (!canEarlyDrop(supervisor.state, isolate.inFlight, isolate.pendingTasks)) return;
    const counted = supervisor.state.retired !== null && !this.#retired.has(member);
    this.#retire(member, counted);
    member.dropping = true;
    if (!this.#shuttingDown) log("info", `early termination has been triggered: isolate: ${isolate.id}`, { fn: this.name, isolate: isolate.id });
    isolate.send({ cmd: "drop" });
    const timer = setTimeout(() => member.dropping && this.#terminate(member, this.#dropReason()), DROP_GRACE_MS);
    void isolate.exited.then(() => clearTimeout(timer));
  }

  #dropReason(): ShutdownReason {
    return this.#shuttingDown ? "TerminationRequested" : "EarlyDrop";
  }

  #onExit(member: Member, status: Deno.CommandStatus): ShutdownReason {
    const { isolate, supervisor } = member;
    supervisor.stop();
    if (this.#active === member) this.#active = null;
    this.#retired.delete(member);
    const ordered = member.endReason;
    const reason: ShutdownReason = ordered ??
      (member.dropping && status.code === 0
        ? this.#dropReason()
        : isolate.bootError !== null
        ? "BootFailure"
        : isolate.outOfMemory
        ? "Memory"
        : "Crashed");
    member.endReason = reason;
    member.cut.abort(new Error(`isolate ended: ${reason}`));
    if (reason === "BootFailure") {
      this.status = "boot_error";
      this.error = isolate.bootError ?? undefined;
    }
    if (!ordered && reason === "Memory") {
      log("error", `memory limit reached for the worker: isolate: ${isolate.id}`, { fn: this.name, isolate: isolate.id, via: "V8 heap limit" });
    }
    this.tally.countShutdown(reason);
    const { report } = isolate.memory;
    log(reason === "Crashed" ? "error" : "info", "isolate shutdown", {
      event_type: "Shutdown",
      fn: this.name,
      isolate: isolate.id,
      pid: isolate.pid,
      reason,
      cpu_time_used: Math.round(supervisor.last.cpuMs),
      memory_used: { total: report.heap + report.external, heap: report.heap, external: report.external, rss: supervisor.last.rssBytes },
      age_ms: isolate.ageMs,
      requests: isolate.served,
      ...(reason === "Crashed" || reason === "BootFailure" ? { exit: describeStatus(status) } : {}),
      ...(isolate.bootError ? { error: isolate.bootError } : {}),
    });
    return reason;
  }
}
