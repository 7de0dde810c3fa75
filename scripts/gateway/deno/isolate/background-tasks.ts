/**
 * Background work a function hands to `EdgeRuntime.waitUntil`: counted, so
 * the isolate is never dropped early while some is pending (the gateway hears
 * of every change in the count), and logged when it fails. It runs until it
 * settles or the isolate is terminated, whichever comes first.
 */
import { describeError, log } from "../log.ts";

export class BackgroundTasks {
  #pending = new Set<Promise<void>>();

  constructor(private readonly fn: string, private readonly onChange: (pending: number) => void) {}

  get size(): number {
    return this.#pending.size;
  }

  add<T>(promise: Promise<T>): void {
    const started = performance.now();
    const tracked: Promise<void> = Promise.resolve(promise).then(
      () => {},
      (e) => {
        log("error", "background task failed", {
          fn: this.fn,
          duration_ms: Math.round(performance.now() - started),
          error: describeError(e),
        });
      },
    ).finally(() => {
      this.#pending.delete(tracked);
      this.onChange(this.#pending.size);
    });
    this.#pending.add(tracked);
    this.onChange(this.#pending.size);
  }
}
