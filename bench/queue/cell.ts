/** One measured cell of the queue figure: a system at a concurrency and claim batch size. */

export type System = "ours" | "graphile" | "pgboss" | "unlocked";

export interface Cell {
  system: System;
  concurrency: number;
  batch: number;
}

export interface CellResult extends Cell {
  round: number;
  jobs: number;
  seconds: number;
  jobsPerSecond: number;
  /** Executions beyond the first, counted in process per job id. */
  duplicates: number;
  /** Whether the queue was drained before the time cap. */
  drained: boolean;
}
