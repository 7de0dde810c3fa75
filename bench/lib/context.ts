/** What run.ts hands each figure. */
import type { BenchPostgres } from "./db.ts";
import type { Metric } from "./metrics.ts";

export interface FigureContext {
  pg: BenchPostgres;
  /** Smaller sizes and fewer rounds, for a smoke run. */
  quick: boolean;
  log: (line: string) => void;
}

export interface FigureResult {
  metrics: Metric[];
  /** Extra facts for latest.json (sizes used, scale-downs, per-cell tables). */
  details?: Record<string, unknown>;
}

export type Figure = (ctx: FigureContext) => Promise<FigureResult>;
