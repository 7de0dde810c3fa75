/**
 * Figure 4, queue: claim + complete throughput of no-op jobs with 1, 8 and 32
 * concurrent workers, ours (claim_job_runs / complete_job_run, claim batch 1
 * and 10) against graphile-worker batched (localQueue C+1, completion batch
 * delay 0) and pg-boss (batchSize 10, burstWhenBatchFull), each in its own
 * database on the same Postgres, cells interleaved round by round
 * (queue-anchors.md section 5). Every execution is counted per job id; a
 * deliberately unlocked claim (select then update, no SKIP LOCKED, no state
 * guard) runs as the control that proves the counter catches duplicates.
 */
import { Logger, run, runMigrations, type Runner } from "graphile-worker";
import { PgBoss } from "pg-boss";
import type { Sql } from "postgres";
import { claimJobRuns, completeJobRun, connect } from "../supabase/functions/_shared/db.ts";
import type { FigureContext, FigureResult } from "./lib/context.ts";
import type { BenchDatabase } from "./lib/db.ts";
import { metric, type Metric } from "./lib/metrics.ts";
import { fmt, sleep } from "./lib/stats.ts";

type System = "ours" | "graphile" | "pgboss" | "unlocked";

interface Cell {
  system: System;
  concurrency: number;
  batch: number;
}

interface CellResult extends Cell {
  round: number;
  jobs: number;
  seconds: number;
  jobsPerSecond: number;
  /** Executions beyond the first, counted in process per job id. */
  duplicates: number;
  /** Whether the queue was drained before the time cap. */
  drained: boolean;
}

/** Counts executions per job id; the window runs from the first execution to the last. */
class Tracker {
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

async function waitFor(tracker: Tracker, n: number, deadline: number): Promise<boolean> {
  while (tracker.done < n) {
    if (performance.now() > deadline) return false;
    await sleep(5);
  }
  return true;
}

// ---- ours -------------------------------------------------------------------

async function resetOurs(sql: Sql, n: number): Promise<void> {
  await sql`truncate public.job_runs`;
  const [def] = await sql<{ id: string }[]>`
    insert into public.job_definitions (kind, symbol, timeframe, range_start, range_end)
    values ('single', 'AAPL', '1Min', '2000-01-01', '2100-01-01')
    on conflict on constraint definition_is_unique do update set updated_at = now()
    returning id::text`;
  await sql`
    insert into public.job_runs (job_def_id, slice_start, slice_end)
    select ${def!.id}::bigint, timestamptz '2001-01-01' + g * interval '1 minute', timestamptz '2001-01-01' + (g + 1) * interval '1 minute'
      from generate_series(0, ${n - 1}::int) g`;
  await sql`vacuum analyze public.job_runs`;
}

async function runOurs(db: BenchDatabase, cell: Cell, n: number, capMs: number, tracker: Tracker): Promise<boolean> {
  // The product's own connection settings (no prepared statements, as for Supabase's pooler).
  const sql = connect(db.url, cell.concurrency);
  const deadline = performance.now() + capMs;
  try {
    await Promise.all(Array.from({ length: cell.concurrency }, async (_, w) => {
      const worker = `bench-${w}`;
      while (performance.now() < deadline) {
        const rows = await claimJobRuns(sql, worker, cell.batch, 300);
        if (rows.length === 0) return;
        for (const r of rows) tracker.hit(String(r.run_id));
        if (rows.length === 1) {
          const r = rows[0]!;
          await completeJobRun(sql, { runId: String(r.run_id), worker: r.locked_by, attempt: r.attempt }, "bench");
        } else {
          // One statement (one commit) completes the batch, through the same guarded function.
          await sql`select public.complete_job_run(x.id, ${worker}, x.attempt, 'bench')
                      from unnest(${rows.map((r) => String(r.run_id))}::bigint[], ${rows.map((r) => r.attempt)}::int[]) as x(id, attempt)`;
        }
        tracker.finished(rows.length);
      }
    }));
  } finally {
    await sql.end({ timeout: 5 });
  }
  return tracker.done >= n;
}

/** The control: look, then take, with nothing stopping two workers from taking the same run. */
async function runUnlocked(db: BenchDatabase, cell: Cell, n: number, capMs: number, tracker: Tracker): Promise<boolean> {
  const sql = db.connect(cell.concurrency);
  const deadline = performance.now() + capMs;
  await Promise.all(Array.from({ length: cell.concurrency }, async (_, w) => {
    const worker = `unlocked-${w}`;
    while (performance.now() < deadline) {
      const rows = await sql<{ id: string }[]>`
        select id::text from public.job_runs where status = 'queued' order by priority, run_after, id limit ${cell.batch}`;
      if (rows.length === 0) return;
      const ids = rows.map((r) => r.id);
      await sql`update public.job_runs set status = 'running', attempt = attempt + 1, locked_by = ${worker},
                       locked_until = now() + interval '5 minutes' where id = any(${ids}::bigint[])`;
      for (const id of ids) tracker.hit(id);
      await sql`update public.job_runs set status = 'success', finished_at = now(), locked_by = null, locked_until = null
                 where id = any(${ids}::bigint[])`;
      tracker.finished(ids.length);
    }
  }));
  return tracker.done >= n;
}

// ---- graphile-worker ----------------------------------------------------------

const silentLogger = new Logger(() => () => {});

async function resetGraphile(sql: Sql, n: number): Promise<void> {
  await sql`delete from graphile_worker._private_jobs`;
  await sql`delete from graphile_worker._private_job_queues`;
  // add_jobs is graphile-worker's bulk path.
  await sql`select graphile_worker.add_jobs(array(
              select row('noop', json_build_object('i', g), null, null, null, null, null, null)::graphile_worker.job_spec
                from generate_series(1, ${n}::int) g))`;
  await sql`vacuum analyze`;
}

async function runGraphile(db: BenchDatabase, cell: Cell, n: number, capMs: number, tracker: Tracker): Promise<boolean> {
  let runner: Runner | undefined;
  const deadline = performance.now() + capMs;
  try {
    runner = await run({
      connectionString: db.url,
      concurrency: cell.concurrency,
      maxPoolSize: cell.concurrency + 4,
      noHandleSignals: true,
      pollInterval: 2000,
      logger: silentLogger,
      taskList: {
        noop: (_payload, helpers) => {
          tracker.hit(String(helpers.job.id));
          tracker.finished(1);
          return Promise.resolve();
        },
      },
      preset: { worker: { localQueue: { size: cell.concurrency + 1 }, completeJobBatchDelay: 0, failJobBatchDelay: 0 } },
    });
    return await waitFor(tracker, n, deadline);
  } finally {
    await runner?.stop();
  }
}

// ---- pg-boss ---------------------------------------------------------------------

const BOSS_QUEUE = "noop";

function newBoss(db: BenchDatabase, max: number): PgBoss {
  const boss = new PgBoss({
    connectionString: db.url,
    max,
    supervise: false,
    schedule: false,
    migrate: true,
    createSchema: true,
  });
  boss.on("error", () => {});
  return boss;
}

async function resetBoss(db: BenchDatabase, sql: Sql, n: number): Promise<void> {
  const boss = newBoss(db, 2);
  await boss.start();
  try {
    if (!(await boss.getQueue(BOSS_QUEUE))) await boss.createQueue(BOSS_QUEUE);
    await boss.deleteAllJobs(BOSS_QUEUE);
    for (let i = 0; i < n; i += 5000) {
      await boss.insert(BOSS_QUEUE, Array.from({ length: Math.min(5000, n - i) }, (_, k) => ({ data: { i: i + k } })));
    }
  } finally {
    await boss.stop({ graceful: false, close: true });
  }
  await sql`vacuum analyze`;
}

async function runBoss(db: BenchDatabase, cell: Cell, n: number, capMs: number, tracker: Tracker): Promise<boolean> {
  const boss = newBoss(db, cell.concurrency + 4);
  await boss.start();
  const deadline = performance.now() + capMs;
  try {
    await boss.work<{ i: number }>(BOSS_QUEUE, {
      batchSize: cell.batch,
      burstWhenBatchFull: true,
      pollingIntervalSeconds: 0.5,
      localConcurrency: cell.concurrency,
    }, (jobs) => {
      for (const j of jobs) tracker.hit(j.id);
      tracker.finished(jobs.length);
      return Promise.resolve();
    });
    return await waitFor(tracker, n, deadline);
  } finally {
    await boss.offWork(BOSS_QUEUE).catch(() => {});
    await boss.stop({ graceful: false, close: true, timeout: 5000 }).catch(() => {});
  }
}

// ---- the figure --------------------------------------------------------------------

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
  for (const c of levels) {
    metrics.push(metric({
      figure: 4, name: `queue C=${c}, claim 10 vs graphile-worker batched`, unit: "jobs/s", values: pick("ours", c, 10),
      baselineName: "graphile-worker batched", baselineValues: pick("graphile", c),
      target: { on: "ratio", op: ">=", x: 1, text: "≥ 1.0× graphile-worker batched" },
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
