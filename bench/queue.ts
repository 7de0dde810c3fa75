/**
 * Figure 4, queue: claim + complete throughput of no-op jobs with 1, 8 and 32
 * concurrent workers, ours (claim_job_runs / complete_job_run, claim batch 1
 * and 10) against graphile-worker batched (localQueue C+1, completion batch
 * delay 0) and pg-boss (batchSize 10, burstWhenBatchFull), each in its own
 * database on the same Postgres. Cells are interleaved round by round, in a
 * rotated order, so drift on this shared machine hits every system alike.
 * Every execution is counted per job id; a deliberately unlocked claim
 * (select then update, no SKIP LOCKED, no state guard) runs as the control
 * that proves the counter catches duplicates. One file per system in queue/.
 */
import { runMigrations } from "graphile-worker";
import type { FigureContext, FigureResult } from "./lib/context.ts";
import { metric, type Metric } from "./lib/metrics.ts";
import { fmt } from "./lib/stats.ts";
import type { Cell, CellResult, System } from "./queue/cell.ts";
import { resetGraphile, runGraphile, silentLogger } from "./queue/graphile.ts";
import { resetOurs, runOurs, runUnlocked } from "./queue/ours.ts";
import { resetBoss, runBoss } from "./queue/pg-boss.ts";
import { Tracker } from "./queue/tracker.ts";

export async function queue(ctx: FigureContext): Promise<FigureResult> {
  const rounds = ctx.quick ? 1 : 3;
  const n = ctx.quick ? 3_000 : 20_000;
  const capMs = ctx.quick ? 1_500 : 4_000;
  const levels = [1, 8, 32];
  const ours = await ctx.pg.createDatabase("queue_ours");
  const graphile = await ctx.pg.createDatabase("queue_graphile", { empty: true });
  const boss = await ctx.pg.createDatabase("queue_pgboss", { empty: true });
  const results: CellResult[] = [];
  try {
    await runMigrations({ connectionString: graphile.url, logger: silentLogger });
    for (let round = 0; round < rounds; round++) {
      for (const c of levels) {
        const cells: Cell[] = [
          { system: "ours", concurrency: c, batch: 1 },
          { system: "ours", concurrency: c, batch: 10 },
          { system: "graphile", concurrency: c, batch: c + 1 },
          { system: "pgboss", concurrency: c, batch: 10 },
        ];
        // Rotate the order so no system always follows the same neighbour.
        const order = cells.map((_, i) => cells[(i + round + c) % cells.length]!);
        for (const cell of order) {
          const tracker = new Tracker();
          let drained: boolean;
          if (cell.system === "ours") {
            await resetOurs(ours.sql, n);
            drained = await runOurs(ours, cell, n, capMs, tracker);
          } else if (cell.system === "graphile") {
            await resetGraphile(graphile.sql, n);
            drained = await runGraphile(graphile, cell, n, capMs, tracker);
          } else {
            await resetBoss(boss, boss.sql, n);
            drained = await runBoss(boss, cell, n, capMs, tracker);
          }
          results.push({ ...cell, round, jobs: tracker.done, seconds: tracker.seconds(), jobsPerSecond: tracker.done / tracker.seconds(), duplicates: tracker.duplicates, drained });
        }
      }
      // The control, once a round: it must find duplicates, or the counter proves nothing.
      const control: Cell = { system: "unlocked", concurrency: 8, batch: 10 };
      const tracker = new Tracker();
      await resetOurs(ours.sql, n);
      const drained = await runUnlocked(ours, control, n, capMs / 2, tracker);
      results.push({ ...control, round, jobs: tracker.done, seconds: tracker.seconds(), jobsPerSecond: tracker.done / tracker.seconds(), duplicates: tracker.duplicates, drained });
      const line = results.filter((r) => r.round === round)
        .map((r) => `${r.system}/C${r.concurrency}/b${r.batch} ${fmt(r.jobsPerSecond)}${r.duplicates ? ` (dup ${r.duplicates})` : ""}`);
      ctx.log(`  round ${round + 1}/${rounds}: ${line.join(", ")}`);
    }
    // The database's own view of ours: no run may have been claimed twice in the last cell.
  } finally {
    await ours.drop();
    await graphile.drop();
    await boss.drop();
  }

  const pick = (system: System, c: number, batch?: number) =>
    results.filter((r) => r.system === system && r.concurrency === c && (batch === undefined || r.batch === batch))
      .sort((a, b) => a.round - b.round).map((r) => r.jobsPerSecond);
  const metrics: Metric[] = [];
  // Throughput is information without a target: the product needs under one claim per second.
  for (const c of levels) {
    metrics.push(metric({
      figure: 4, name: `queue C=${c}, claim 10 vs graphile-worker batched`, unit: "jobs/s", values: pick("ours", c, 10),
      baselineName: "graphile-worker batched", baselineValues: pick("graphile", c),
    }));
  }
  for (const c of levels) {
    metrics.push(metric({
      figure: 4, name: `queue C=${c}, claim 1 vs graphile-worker batched`, unit: "jobs/s", values: pick("ours", c, 1),
      baselineName: "graphile-worker batched", baselineValues: pick("graphile", c),
    }));
  }
  for (const c of levels) {
    metrics.push(metric({
      figure: 4, name: `queue C=${c}, claim 10 vs pg-boss batch 10 + burst`, unit: "jobs/s", values: pick("ours", c, 10),
      baselineName: "pg-boss batch 10 + burst", baselineValues: pick("pgboss", c),
    }));
  }
  const dup = (s: System) => results.filter((r) => r.system === s).reduce((t, r) => t + r.duplicates, 0);
  const controlDup = results.filter((r) => r.system === "unlocked").map((r) => r.duplicates);
  const m = metric({
    figure: 4, name: "queue double claims, ours (all cells)", unit: "duplicates", values: [dup("ours")],
    baselineName: "unlocked claim (control)", baselineValues: controlDup, ratio: Number.NaN,
    target: { on: "value", op: "<=", x: 0, text: "0, and the control > 0" },
    note: `graphile-worker ${dup("graphile")}, pg-boss ${dup("pgboss")} duplicates; control (select-then-update, C=8, ` +
      `batch 10) ${controlDup.join("/")} per round; ${n.toLocaleString("en-US")} jobs per cell, cap ${capMs / 1000} s, ${rounds} round(s)`,
  });
  m.ratio = null;
  m.met = dup("ours") === 0 && controlDup.every((d) => d > 0);
  metrics.push(m);
  const capped = results.filter((r) => !r.drained && r.system !== "unlocked").length;
  if (capped > 0) {
    metrics[0]!.note = `${capped} of ${results.length} cells hit the ${capMs / 1000} s cap before draining ${n.toLocaleString("en-US")} jobs; ` +
      "their rate is jobs done / time to the last one";
  }
  return { metrics, details: { jobs_per_cell: n, cap_seconds: capMs / 1000, rounds, cells: results } };
}
