/**
 * Background work a function hands to `EdgeRuntime.waitUntil`: tracked so
 * shutdown can wait for it, logged when it fails, and flagged when it
 * outlives the wall clock (Supabase would stop it; here it keeps running).
 */
import { describeError, log } from "./log.ts";

/** Background promises handed to `EdgeRuntime.waitUntil`. */
export class BackgroundTasks {
  #pending = new Set<Promise<void>>();
  constructor(private readonly warnAfterMs: number) {}

  get size(): number {
    return this.#pending.size;
  }

  add<T>(promise: Promise<T>, fn: string | null): void {
    const started = performance.now();
    const timer = setTimeout(() => {
      log("warn", "background task outlived the wall-clock limit (Supabase would have stopped it)", {
        fn,
        limit_ms: this.warnAfterMs,
      });
    }, this.warnAfterMs);
    const tracked: Promise<void> = Promise.resolve(promise).then(
      () => {},
      (e) => {
        log("error", "background task failed", {
          fn,
          duration_ms: Math.round(performance.now() - started),
          error: describeError(e),
        });
      },
    ).finally(() => {
      clearTimeout(timer);
      this.#pending.delete(tracked);
    });
    this.#pending.add(tracked);
  }

  /** Waits for every task, including ones added meanwhile, until `deadline` (epoch ms). True if none is left. */
  async drain(deadline: number): Promise<boolean> {
    while (this.#pending.size > 0) {
      const remaining = deadline - Date.now();
      if (remaining <= 0) return false;
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([
        Promise.allSettled([...this.#pending]),
        new Promise((resolve) => (timer = setTimeout(resolve, remaining))),
      ]);
      clearTimeout(timer);
    }
    return true;
  }
}
