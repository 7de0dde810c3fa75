/** The execution counter every system's cell reports to: the figure's duplicate detector. */
import { sleep } from "../lib/stats.ts";

/** Counts executions per job id; the window runs from the first execution to the last. */
export class Tracker {
  readonly counts = new Map<string, number>();
  done = 0;
  first = 0;
  last = 0;
  duplicates = 0;
  hit(id: string): void {
    const t = performance.now();
    if (this.first === 0) this.first = t;
    const c = (this.counts.get(id) ?? 0) + 1;
    this.counts.set(id, c);
    if (c > 1) this.duplicates++;
  }
  finished(n: number): void {
    this.done += n;
    this.last = performance.now();
  }
  seconds(): number {
    return this.first === 0 ? Number.NaN : (this.last - this.first) / 1000;
  }
}

/** Resolves true once `n` jobs finished, false at `deadline` (performance.now() ms). */
export async function waitFor(tracker: Tracker, n: number, deadline: number): Promise<boolean> {
  while (tracker.done < n) {
    if (performance.now() > deadline) return false;
    await sleep(5);
  }
  return true;
}
