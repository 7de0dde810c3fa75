/** Running counts of isolates, per function and in total, for `/_internal/health`. */
import type { IsolateTally, ShutdownReason } from "../platform.ts";

export class Tally {
  started = 0;
  retired = 0;
  readonly shutdown: Partial<Record<ShutdownReason, number>> = {};

  constructor(private readonly total?: Tally) {}

  countStart(): void {
    this.started++;
    this.total?.countStart();
  }

  countRetire(): void {
    this.retired++;
    this.total?.countRetire();
  }

  countShutdown(reason: ShutdownReason): void {
    this.shutdown[reason] = (this.shutdown[reason] ?? 0) + 1;
    this.total?.countShutdown(reason);
  }

  snapshot(): IsolateTally {
    return { started: this.started, retired: this.retired, shutdown: { ...this.shutdown } };
  }
}
