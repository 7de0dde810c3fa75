/**
 * Polls progress until the watched definitions have nothing queued or running,
 * or something ends the wait first (a signal, a gateway that keeps dying).
 */
import { setTimeout as sleep } from "node:timers/promises";
import type { Sql } from "postgres";
import type { ProgressView } from "./progress-view.ts";
import { type DefinitionProgress, type Estimate, isDrained, RateTracker, readProgress } from "./progress.ts";

export type WatchEnd = { kind: "drained"; rows: DefinitionProgress[] } | { kind: "stopped"; rows: DefinitionProgress[] };

export async function watchUntilDrained(opts: {
  sql: Sql;
  ids: number[];
  view: ProgressView;
  pollMs: number;
  /** Resolves when waiting should end early. */
  stop: Promise<unknown>;
  onError: (err: Error) => void;
}): Promise<WatchEnd> {
  const tracker = new RateTracker();
  let stopped = false;
  void opts.stop.then(() => (stopped = true));
  let rows: DefinitionProgress[] = [];
  let estimates = new Map<number, Estimate>();
  while (!stopped) {
    try {
      rows = await readProgress(opts.sql, opts.ids);
      estimates = new Map(rows.map((r) => [r.id, tracker.estimate(r)]));
      if (isDrained(rows)) {
        opts.view.finish(rows, estimates);
        return { kind: "drained", rows };
      }
      opts.view.update(rows, estimates);
    } catch (err) {
      opts.onError(err as Error);
    }
    await Promise.race([sleep(opts.pollMs), opts.stop]);
  }
  opts.view.finish(rows, estimates);
  return { kind: "stopped", rows };
}
