/**
 * The gateway's shutdown, as the runtime terminates its workers: every
 * isolate hears `beforeunload` (termination) and takes no new request; each
 * ends once its requests and background work are done, or is killed when
 * the deadline passes. Either way its shutdown reason is TerminationRequested.
 */
import type { FunctionPool } from "./pool.ts";

/** After the deadline, how long killed isolates get to be reaped. */
const REAP_MS = 2_000;

/** True when every isolate ended by itself before `deadline` (epoch ms). */
export async function drainIsolates(pools: FunctionPool[], deadline: number): Promise<boolean> {
  for (const pool of pools) pool.shutdown();
  const live = () => pools.flatMap((p) => p.members().map((m) => m.ended));
  const settledBy = async (until: number) => {
    for (let ended = live(); ended.length > 0; ended = live()) {
      const remaining = until - Date.now();
      if (remaining <= 0) return false;
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([
        Promise.allSettled(ended),
        new Promise((resolve) => (timer = setTimeout(resolve, remaining))),
      ]);
      clearTimeout(timer);
    }
    return true;
  };
  if (await settledBy(deadline)) return true;
  for (const pool of pools) pool.killAll();
  await settledBy(Date.now() + REAP_MS);
  return false;
}
