/**
 * Who ticks the orchestrator: pg_cron, where the database can call the
 * functions itself, or a local interval loop. (--scheduler cron, pg_cron
 * ticking npm start's own gateway, is cron-scheduler.ts.)
 */
import { setTimeout as sleep } from "node:timers/promises";
import type { Sql } from "postgres";
import type { SchedulerChoice } from "./options.ts";

export interface TickLoop {
  /** Stops ticking; resolves once the tick in flight (if any) has finished. */
  stop(): Promise<void>;
}

/** Ticks never overlap: the next one starts `intervalMs` after the previous one started, or when it ends if later. */
export function startTickLoop(intervalMs: number, tick: () => Promise<void>, onError: (err: Error) => void): TickLoop {
  let stopped = false;
  const wake = new AbortController();
  const loop = (async () => {
    while (!stopped) {
      const started = Date.now();
      try {
        await tick();
      } catch (err) {
        if (!stopped) onError(err as Error);
      }
      const wait = intervalMs - (Date.now() - started);
      if (wait > 0 && !stopped) await sleep(wait, undefined, { signal: wake.signal }).catch(() => {});
    }
  })();
  return {
    async stop() {
      stopped = true;
      wake.abort();
      await loop;
    },
  };
}

/**
 * `auto`: pg_cron when `setup_orchestrator_tick_cron()` exists and reports that it
 * scheduled the tick with nothing missing (pg_net, Vault secrets); else local.
 * The lease sweeper is scheduled alongside. Returns the functions' report lines for the user.
 */
export async function choosePgCron(sql: Sql, choice: SchedulerChoice): Promise<{ useCron: boolean; report: string[] }> {
  if (choice === "local") return { useCron: false, report: [] };
  const [{ exists }] = await sql<{ exists: boolean }[]>`
    select to_regprocedure('public.setup_orchestrator_tick_cron(text, integer)') is not null
       and to_regprocedure('public.setup_lease_sweeper_cron(text)') is not null as exists`;
  if (!exists) return { useCron: false, report: ["public.setup_orchestrator_tick_cron() is not installed"] };
  let report: string[];
  try {
    const [row] = await sql<{ sweeper: string; tick: string }[]>`
      select public.setup_lease_sweeper_cron() as sweeper, public.setup_orchestrator_tick_cron() as tick`;
    report = row ? [row.sweeper, row.tick] : [];
  } catch (err) {
    report = [`setup_lease_sweeper_cron() / setup_orchestrator_tick_cron() failed: ${(err as Error).message}`];
  }
  const scheduled = report.some((l) => l.startsWith("scheduled bars-orchestrator-tick"));
  const warned = report.some((l) => l.startsWith("warning:"));
  return { useCron: scheduled && !warned, report };
}

/**
 * The local scheduler's note on pg_cron, for someone new to it: when the
 * database has no pg_cron (an embedded or plain Postgres) one line says what
 * that means; when pg_cron is there but could not be used, its own report says why.
 */
export function explainCronReport(report: string[]): string[] {
  if (report.length === 0) return [];
  if (report.some((l) => l.includes("pg_cron is not installed"))) {
    return ["pg_cron, which ticks the orchestrator every minute on a hosted Supabase project, is not in this database, " +
      "so npm start ticks it itself, as above: nothing to set up"];
  }
  return report.map((l) => `pg_cron: ${l}`);
}
