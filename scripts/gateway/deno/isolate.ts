/**
 * One isolate process as the gateway sees it: started on the Edge Runtime's
 * Deno (2.1.4) with the function's environment, its output passed through
 * line by line, its reports (isolate-protocol.ts) kept as its latest state.
 *
 * Invariants:
 * - `ready` settles exactly once: ready, boot error, exit or boot timeout;
 * - `exited` resolves once the process is gone and its output is drained;
 * - the gateway's own counters (inFlight, served) change only in pool.ts/proxy.ts.
 */
import {
  type IsolateCommand,
  ISOLATE_ENV,
  type IsolateReport,
  type MemoryReport,
  parseOutputLine,
} from "../isolate-protocol.ts";
import { log } from "./log.ts";

/** V8's last words when it runs out of heap (the heap is capped at the memory limit). */
const V8_OUT_OF_MEMORY = "Fatal JavaScript out of memory";
/** Deno's own start-up and npm resolution, on top of the function's boot timeout. */
const BOOT_MARGIN_MS = 10_000;

export interface IsolateSpawnOptions {
  fn: string;
  entryUrl: string;
  hostScript: string;
  denoBin: string;
  cwd: string;
  /** The function's environment (the host's own variables are added). */
  env: Record<string, string>;
  gatewayUrl: string;
  bootTimeoutMs: number;
  memoryMb: number;
}

export type BootOutcome = { ok: true } | { ok: false; error: string };

export class IsolateProcess {
  readonly id = crypto.randomUUID();
  readonly fn: string;
  readonly token = Array.from(crypto.getRandomValues(new Uint8Array(24)), (b) => b.toString(16).padStart(2, "0")).join("");
  readonly startedAt = Date.now();
  readonly pid: number;
  readonly ready: Promise<BootOutcome>;
  readonly exited: Promise<Deno.CommandStatus>;
  port = 0;
  bootError: string | null = null;
  /** The latest memory report and when it came (epoch ms); `askedAt` while a report is asked for. */
  memory: { report: MemoryReport; at: number; askedAt: number | null } = {
    report: { heap: 0, external: 0, rss: 0 },
    at: 0,
    askedAt: null,
  };
  /** RSS that is not V8 heap or external memory, measured at boot. */
  rssBaselineBytes = 0;
  pendingTasks = 0;
  /** Requests routed here whose response has not been forwarded in full. */
  inFlight = 0;
  served = 0;
  outOfMemory = false;
  onReport: (report: IsolateReport) => void = () => {};

  readonly #child: Deno.ChildProcess;
  readonly #stdin: WritableStreamDefaultWriter<Uint8Array>;
  #settleReady!: (outcome: BootOutcome) => void;

  constructor(o: IsolateSpawnOptions) {
    this.fn = o.fn;
    this.#child = new Deno.Command(o.denoBin, {
      args: ["run", "--allow-all", `--v8-flags=--max-old-space-size=${o.memoryMb}`, o.hostScript],
      cwd: o.cwd,
      clearEnv: true,
      env: {
        ...o.env,
        DENO_NO_UPDATE_CHECK: "1",
        [ISOLATE_ENV.id]: this.id,
        [ISOLATE_ENV.fn]: o.fn,
        [ISOLATE_ENV.entry]: o.entryUrl,
        [ISOLATE_ENV.token]: this.token,
        [ISOLATE_ENV.bootTimeoutMs]: String(o.bootTimeoutMs),
        [ISOLATE_ENV.gatewayUrl]: o.gatewayUrl,
      },
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    this.pid = this.#child.pid;
    this.#stdin = this.#child.stdin.getWriter();
    let settled = false;
    const ready = new Promise<BootOutcome>((resolve) => (this.#settleReady = resolve));
    const settle = this.#settleReady;
    this.#settleReady = (outcome) => {
      if (settled) return;
      settled = true;
      if (!outcome.ok) this.bootError = outcome.error;
      settle(outcome);
    };
    this.ready = ready;
    const bootTimer = setTimeout(() => {
      this.#settleReady({ ok: false, error: `not ready within ${o.bootTimeoutMs + BOOT_MARGIN_MS} ms` });
      this.kill();
    }, o.bootTimeoutMs + BOOT_MARGIN_MS);
    void ready.then(() => clearTimeout(bootTimer));
    const drained = Promise.all([
      this.#pipeLines(this.#child.stdout, (line) => this.#onStdout(line)),
      this.#pipeLines(this.#child.stderr, (line) => this.#onStderr(line)),
    ]);
    this.exited = Promise.all([this.#child.status, drained]).then(([status]) => {
      this.#settleReady({ ok: false, error: `isolate exited during boot (${describeStatus(status)})` });
      return status;
    });
  }

  get ageMs(): number {
    return Date.now() - this.startedAt;
  }

  send(command: IsolateCommand): void {
    this.#stdin.write(new TextEncoder().encode(`${JSON.stringify(command)}\n`)).catch(() => {
      // The process is gone; its exit is handled where `exited` is awaited.
    });
  }

  askMemory(): void {
    if (this.memory.askedAt !== null) return;
    this.memory.askedAt = Date.now();
    this.send({ cmd: "report" });
  }

  kill(): void {
    try {
      this.#child.kill("SIGKILL");
    } catch {
      // already exited
    }
  }

  #onStdout(line: string): void {
    const { output, report } = parseOutputLine(line);
    if (output !== null) console.log(output);
    if (!report) return;
    if (report.t === "ready") {
      this.port = report.port;
      this.#keepMemory(report.memory);
      this.rssBaselineBytes = Math.max(0, report.memory.rss - report.memory.heap - report.memory.external);
      this.#settleReady({ ok: true });
    } else if (report.t === "boot_error") {
      this.#settleReady({ ok: false, error: report.error });
    } else if (report.t === "memory") {
      this.#keepMemory(report.memory);
    } else if (report.t === "tasks" || report.t === "busy") {
      this.pendingTasks = report.pending;
    }
    this.onReport(report);
  }

  #onStderr(line: string): void {
    if (line.includes(V8_OUT_OF_MEMORY)) this.outOfMemory = true;
    console.error(line);
  }

  #keepMemory(report: MemoryReport): void {
    this.memory = { report, at: Date.now(), askedAt: null };
  }

  async #pipeLines(stream: ReadableStream<Uint8Array>, onLine: (line: string) => void): Promise<void> {
    let buffered = "";
    try {
      for await (const text of stream.pipeThrough(new TextDecoderStream())) {
        buffered += text;
        let nl: number;
        while ((nl = buffered.indexOf("\n")) >= 0) {
          onLine(buffered.slice(0, nl));
          buffered = buffered.slice(nl + 1);
        }
      }
    } catch (e) {
      log("warn", "isolate output stream failed", { fn: this.fn, isolate: this.id, error: String(e) });
    }
    if (buffered) onLine(buffered);
  }
}

export function describeStatus(status: Deno.CommandStatus): string {
  return status.signal ? `signal ${status.signal}` : `code ${status.code}`;
}
