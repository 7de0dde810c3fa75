/**
 * The backfill itself, once the stack is up: plan, tick (pg_cron, or a local
 * loop; --scheduler cron: pg_cron ticking this run's gateway), show progress
 * until the queue drains, then the status table.
 */
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import type { Sql } from "postgres";
import { createOrchestratorClient } from "../lib/orchestrator-client.ts";
import { checkPgCronPrerequisites, takeOverPgCron } from "./cron-scheduler.ts";
import type { Lifecycle } from "./lifecycle.ts";
import type { Basket, StartOptions } from "./options.ts";
import { describeError, type Output } from "./output.ts";
import { definitionsWithOpenWork, planBackfill } from "./plan.ts";
import { createProgressView } from "./progress-view.ts";
import { allSucceeded, formatCount } from "./progress.ts";
import { formatRange } from "./range.ts";
import { catchUpNow, nextCatchUpAt, pgCronCatchesUp } from "./follow.ts";
import { choosePgCron, explainCronReport, startTickLoop } from "./scheduler.ts";
import type { Stack } from "./stack.ts";
import { platformSummary, sampleConnections } from "./platform-summary.ts";
import { writeReport } from "../report/write.ts";
import { queryHint, recentErrors, spendLine, statusTable } from "./summary.ts";
import { watchUntilDrained } from "./watch.ts";

export interface RunResult {
  /** 0 when every run of the watched definitions succeeded, 1 otherwise. */
  code: number;
  /** The queue drained (false: interrupted, or the gateway could not be kept up). */
  drained: boolean;
}

interface RunContext {
  opts: StartOptions;
  out: Output;
  life: Lifecycle;
  sql: Sql;
  stack: Stack;
}

const INDENT = " ".repeat(19);
/** A tick only claims and hands slices over (workers answer 202), so 30 s means the gateway is stuck. */
const TICK_TIMEOUT_MS = 30_000;

/** Prints at most one line per `everyMs` for a recurring problem, with how many were folded in. */
function throttled(out: Output, everyMs: number) {
  let last = 0;
  let folded = 0;
  return (text: string) => {
    if (Date.now() - last < everyMs) {
      folded++;
      return;
    }
    out.line(folded > 0 ? `${text} (and ${folded} more since the last report)` : text);
    last = Date.now();
    folded = 0;
  };
}

const plural = (n: number, word: string) => `${formatCount(n)} ${word}${n === 1 ? "" : "s"}`;
const describeBasket = (b: Basket) => `${b.name} (${plural(b.symbols.length, "symbol")})`;

/** Plans the backfill and returns the definitions to watch: the planned ones and any others with work left. */
async function plan({ opts, out, sql }: RunContext): Promise<number[]> {
  const planned = await planBackfill(sql, opts);
  // A followed backfill planned by an earlier run: the days completed since it was last caught up.
  const caughtUp = opts.follow ? await catchUpNow(sql) : undefined;
  const others = (await definitionsWithOpenWork(sql)).filter((id) => !planned.includes(id));
  const [{ slices }] = await sql<{ slices: number }[]>`
    select count(*)::int as slices from public.job_runs where job_def_id = any(${planned}::bigint[])`;
  const range = opts.follow ? `from ${opts.rangeStart.toISOString()}, followed` : formatRange(opts.rangeStart, opts.rangeEnd);
  out.line(`backfill:          ${opts.baskets.map(describeBasket).join(", ")}, ${opts.timeframe}, ${opts.feed}, ` +
    `${range}: ${plural(slices, "slice")}`);
  for (const line of caughtUp?.lines ?? []) out.line(`${INDENT}caught up: ${line}`);
  if (others.length > 0) out.line(`${INDENT}and ${others.length} other definition(s) with work left, watched too`);
  return [...planned, ...others].sort((a, b) => a - b);
}

const cronFailure = (err: Error): never => {
  throw new Error(err.message.startsWith("--scheduler cron") ? err.message : `--scheduler cron: ${err.message}`);
};

/**
 * --scheduler cron: the database's pg_cron ticks this run's gateway (Vault secrets pointed at it);
 * nothing ticks locally; what was changed is put back on the way out, and said.
 */
async function scheduleCronToLocalGateway({ opts, out, life, sql, stack }: RunContext): Promise<void> {
  const cron = await takeOverPgCron(sql, { databaseUrl: stack.db.url, gatewayUrl: stack.gateway.url, serviceKey: stack.serviceKey })
    .catch(cronFailure);
  const done = new AbortController();
  const report = throttled(out, 10_000);
  const watcher = (async () => {
    while (!done.signal.aborted) {
      await sleep(5_000, undefined, { signal: done.signal }).catch(() => {});
      if (done.signal.aborted) break;
      try {
        for (const problem of await cron.newProblems()) report(problem);
      } catch (err) {
        report(`reading pg_cron's and pg_net's history failed: ${describeError(err)}`);
      }
    }
  })();
  life.defer("the pg_cron schedule", async () => {
    done.abort();
    await watcher;
    for (const line of await cron.restore()) out.line(line);
  });
  out.line(`scheduler:         pg_cron in the database ticks ${stack.gateway.url}/functions/v1/orchestrator every minute ` +
    `(job bars-orchestrator-tick, URL and key from Vault), no local ticks; first tick in ${cron.firstTickInSeconds}s`);
  for (const line of cron.report) out.line(`${INDENT}(${line})`);
  out.line(`${INDENT}each tick claims the free room under --max-runs (${opts.maxRunsInFlight}); on exit the schedule and secrets are put back`);
}

/** pg_cron where the database can tick the functions itself; otherwise a local loop of ticks. */
async function schedule(ctx: RunContext): Promise<void> {
  const { opts, out, life, sql, stack } = ctx;
  if (opts.scheduler === "cron") return await scheduleCronToLocalGateway(ctx);
  const cron = await choosePgCron(sql, opts.scheduler);
  if (cron.useCron) {
    out.line("scheduler:         pg_cron ticks the orchestrator every minute (job bars-orchestrator-tick)");
    return;
  }
  const report = throttled(out, 10_000);
  const orchestrator = await createOrchestratorClient(stack.gateway.url, stack.serviceKey, { timeoutMs: TICK_TIMEOUT_MS });
  // The orchestrator alone caps runs in flight (bringUpStack gave it --max-runs); a tick may
  // claim up to the whole cap, so the cap, not a per-tick default, decides how many start.
  const loop = startTickLoop(
    opts.tickIntervalMs,
    async () => void (await orchestrator.tick(opts.maxRunsInFlight)),
    (err) => report(`tick failed: ${describeError(err)}`),
  );
  life.defer("the ticks", () => loop.stop());
  out.line(`scheduler:         local, a tick every ${opts.tickIntervalMs / 1000}s keeping up to ${opts.maxRunsInFlight} runs in flight`);
  for (const line of explainCronReport(cron.report)) out.line(`${INDENT}(${line})`);
}

/**
 * --follow, once the backfill has drained: the daily catch-up, until Ctrl-C. pg_cron's
 * bars-follow-catch-up does it where the database has pg_cron; otherwise it runs here, at
 * the same times, and each catch-up's slices are watched until they drain.
 */
async function follow(ctx: RunContext, watch: () => Promise<unknown>): Promise<void> {
  const { out, life, sql } = ctx;
  const cron = await pgCronCatchesUp(sql);
  if (cron.cron) {
    out.line(`follow:            pg_cron catches up every day (${cron.line}); Ctrl-C to stop`);
    await life.interrupted;
    return;
  }
  out.line(`follow:            catching up here, at the times of the pg_cron job (pg_cron: ${cron.line})`);
  while (!life.signal) {
    const at = nextCatchUpAt(new Date());
    out.line(`follow:            next catch-up at ${at.toISOString()}; Ctrl-C to stop`);
    await Promise.race([sleep(at.getTime() - Date.now()), life.interrupted]);
    if (life.signal) return;
    const caught = await catchUpNow(sql);
    for (const line of caught.lines) out.line(`follow:            ${line}`);
    if (caught.slices > 0) await watch();
  }
}

/** Watches the definitions until their queue drains (or a stop), then prints the status table. */
async function watchUntilDone(ctx: RunContext, ids: number[]): Promise<{ drained: boolean; succeeded: boolean; peakConnections: number }> {
  const { opts, out, life, sql, stack } = ctx;
  const report = throttled(out, 10_000);
  const connections = sampleConnections(sql);
  const ended = await watchUntilDrained({
    sql,
    ids,
    view: createProgressView(out, { tty: process.stdout.isTTY === true, intervalMs: opts.progressIntervalMs }),
    pollMs: process.stdout.isTTY ? 500 : 1000,
    stop: Promise.race([life.interrupted, stack.gateway.gaveUp.then((err) => out.line(err.message))]),
    onError: (err) => report(`progress query failed: ${describeError(err)}`),
  });
  const peakConnections = connections.stop();
  const drained = ended.kind === "drained";
  const succeeded = drained && allSucceeded(ended.rows);
  out.line("");
  for (const line of statusTable(ended.rows)) out.line(line);
  return { drained, succeeded, peakConnections };
}

export async function runBackfill(ctx: RunContext): Promise<RunResult> {
  const { opts, out, life, sql, stack } = ctx;
  // --scheduler cron: refused before anything is planned when the database cannot tick.
  if (opts.scheduler === "cron") await checkPgCronPrerequisites(sql).catch(cronFailure);
  const ids = await plan(ctx);
  await schedule(ctx);

  const { drained, succeeded, peakConnections } = await watchUntilDone(ctx, ids);
  for (const line of await platformSummary(sql, ids, stack.gateway.url, peakConnections)) out.line(line);
  try {
    const report = await writeReport(sql, ids, join(opts.dataDir, "report.html"));
    out.line(spendLine(report.data.spend));
    out.line(`report:            ${report.path} (coverage, spend and errors; open it in a browser)`);
  } catch (err) {
    out.line(`report:            not written: ${describeError(err)}`);
  }
  if (drained && !succeeded) for (const e of await recentErrors(sql, ids)) out.line(`  failed: ${e}`);
  out.line("");
  for (const line of queryHint(stack.db.shownUrl, opts.timeframe, stack.db.embedded, opts.keepRunning)) out.line(line);
  if (drained) out.line(succeeded ? "every run succeeded." : "some runs did not succeed (errors above; npm run jobs -- errors lists them all).");

  if (drained && opts.follow && !life.signal) {
    await follow(ctx, () => watchUntilDone(ctx, ids));
  } else if (drained && opts.keepRunning && !life.signal) {
    out.line("--keep-running: everything stays up; press Ctrl-C to stop.");
    await life.interrupted;
  }
  return { code: succeeded ? 0 : 1, drained };
}
