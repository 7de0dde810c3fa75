/**
 * The queue as the handlers see it: one method per SQL transition they use,
 * bound to a connection pool. Handlers take this interface, so unit tests give
 * them an in-memory fake and the real one is only ever these SQL calls.
 */
import type { BarRow } from "./alpaca/types.ts";
import {
  claimJobRuns,
  completeJobRun,
  countRunning,
  failJobRun,
  handBackJobRun,
  requeueExpired,
  saveBarsPage,
  type Claim,
  type Sql,
} from "./db.ts";
import type { FailureKind } from "./errors.ts";
import type { ClaimedRunRow } from "./slice.ts";

export interface FailOptions {
  retryAfterMs?: number;
  handledBy?: string;
}

export interface JobQueue {
  requeueExpired(): Promise<number>;
  countRunning(): Promise<number>;
  claim(worker: string, limit: number, leaseSeconds: number): Promise<ClaimedRunRow[]>;
  /** Stores a page and its checkpoint together (and completes the run when `completeAs` is set); throws LeaseLostError. */
  savePage(
    claim: Claim,
    timeframe: string,
    bars: readonly BarRow[],
    nextPageToken: string | null,
    leaseSeconds: number,
    completeAs: string | null,
  ): Promise<number>;
  /** False when the claim was lost. */
  complete(claim: Claim, handledBy: string): Promise<boolean>;
  /** The run's new status, or null when the claim was lost. */
  fail(claim: Claim, kind: FailureKind, message: string, opts?: FailOptions): Promise<string | null>;
  /** Gives a held run back unfinished (an isolate limit is near); the new status, or null when the claim was lost. */
  handBack(claim: Claim, reason: string, handledBy: string): Promise<string | null>;
}

export function sqlJobQueue(sql: Sql): JobQueue {
  return {
    requeueExpired: () => requeueExpired(sql),
    countRunning: () => countRunning(sql),
    claim: (worker, limit, leaseSeconds) => claimJobRuns(sql, worker, limit, leaseSeconds),
    savePage: (claim, timeframe, bars, next, leaseSeconds, completeAs) =>
      saveBarsPage(sql, claim, timeframe, bars, next, leaseSeconds, completeAs),
    complete: (claim, handledBy) => completeJobRun(sql, claim, handledBy),
    fail: (claim, kind, message, opts) => failJobRun(sql, claim, kind, message, opts),
    handBack: (claim, reason, handledBy) => handBackJobRun(sql, claim, reason, handledBy),
  };
}
