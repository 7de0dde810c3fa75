/**
 * Signals and shutdown order. Everything npm start brings up registers how to
 * stop it; on Ctrl-C (or SIGTERM) they are stopped in reverse order of start:
 * the ticks first, then the gateway (its workers finish the page they hold,
 * bounded), the simulator, and Postgres last, so no worker loses its database.
 */
import type { Output } from "./output.ts";

const EXIT_CODES: Record<string, number> = { SIGINT: 130, SIGTERM: 143, SIGHUP: 129 };
const HANDLED = ["SIGINT", "SIGTERM", "SIGHUP"] as const;

export class Lifecycle {
  private readonly steps: Array<{ name: string; stop: () => Promise<void> }> = [];
  private forceHooks: Array<() => void> = [];
  private signalName: NodeJS.Signals | undefined;
  private signalAt = 0;
  private onSignal!: (signal: NodeJS.Signals) => void;
  /** Resolves with the first signal received. */
  readonly interrupted = new Promise<NodeJS.Signals>((resolve) => (this.onSignal = resolve));

  constructor(private readonly out: Output) {}

  /** Takes over SIGINT/SIGTERM/SIGHUP: the process then exits only through stopAll() and process.exit. */
  installSignalHandlers(): void {
    for (const signal of HANDLED) process.on(signal, () => this.handle(signal));
  }

  get signal(): NodeJS.Signals | undefined {
    return this.signalName;
  }

  exitCodeForSignal(): number | undefined {
    return this.signalName ? EXIT_CODES[this.signalName] : undefined;
  }

  /** Registers how to stop something just started. */
  defer(name: string, stop: () => Promise<void>): void {
    this.steps.push({ name, stop });
  }

  /** What a second signal does before exiting at once (kill children without waiting). */
  onForce(hook: () => void): void {
    this.forceHooks.push(hook);
  }

  /** Stops everything registered, newest first; a failing step does not prevent the others. */
  async stopAll(): Promise<void> {
    while (this.steps.length > 0) {
      const step = this.steps.pop()!;
      try {
        await step.stop();
      } catch (err) {
        this.out.line(`stopping ${step.name} failed: ${(err as Error).message}`);
      }
    }
  }

  private handle(signal: NodeJS.Signals): void {
    // One Ctrl-C can arrive twice: from the terminal and relayed by tsx. A second press is later.
    if (this.signalName && Date.now() - this.signalAt < 1000) return;
    if (this.signalName) {
      this.out.line(`${signal} again: exiting now without waiting`);
      for (const hook of this.forceHooks) hook();
      process.exit(EXIT_CODES[this.signalName] ?? 1);
    }
    this.signalName = signal;
    this.signalAt = Date.now();
    this.out.line(`${signal} received: stopping (press Ctrl-C again to exit at once)`);
    this.onSignal(signal);
  }
}
