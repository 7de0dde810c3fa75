/**
 * Ctrl-C in the middle of `npm start`: it stops every process it started,
 * promptly, with exit code 130, and keeps what was stored; running it again
 * resumes (runs cut off in flight come back when their lease expires) and ends
 * with exactly the simulator's bars.
 */
import { afterAll, describe, expect, it } from "vitest";
import { isAlive, newDataDir, portIsOpen, removeDataDir, runStart, seedGroundTruth, statusRows, type StartProcess } from "../../helpers/run-start.ts";

const FROM = "2024-03-04";
const TO = "2024-03-09"; // a week: long enough to interrupt mid-way
const dataDir = newDataDir();
const args = ["--from", FROM, "--to", TO, "--data-dir", dataDir, "--progress-interval", "1"];
// Short leases, so the rerun gets the interrupted runs back quickly.
const env = { JOB_LEASE_SECONDS: "10" };
const started: StartProcess[] = [];

afterAll(async () => {
  for (const p of started) p.killAll();
  await removeDataDir(dataDir);
});

describe("npm start interrupted", () => {
  it("stops everything it started on SIGINT and exits 130; a rerun completes every bar", { timeout: 120_000 }, async () => {
    const run = runStart(args, env);
    started.push(run);
    const pgPort = Number((await run.waitFor(/^Postgres: +postgres:\/\/postgres@127\.0\.0\.1:(\d+)\//m))[1]);
    const gatewayPid = Number((await run.waitFor(/^functions gateway: .*\(pid (\d+)/m))[1]);
    // Mid-run: some bars stored, not all.
    await run.waitFor(/^progress .*US_BATCH_1 .*\| [1-9][\d,]* bars/m);
    expect(statusRows(run.output())).toEqual([]);

    const signalled = Date.now();
    run.child.kill("SIGINT");
    const code = await run.exited;
    const out = run.output();
    expect(code, out).toBe(130);
    expect(Date.now() - signalled).toBeLessThan(20_000);
    expect(out).toContain("SIGINT received: stopping");
    expect(out).toContain("run npm start again to resume");
    expect(isAlive(gatewayPid)).toBe(false);
    expect(await portIsOpen(pgPort)).toBe(false);
    const interrupted = statusRows(out);
    expect(interrupted.some((r) => r.done < r.total)).toBe(true);

    const rerun = runStart(args, env);
    started.push(rerun);
    const rerunCode = await rerun.exited;
    const rerunOut = rerun.output();
    expect(rerunCode, rerunOut).toBe(0);
    const truth = seedGroundTruth(FROM, TO);
    const rows = statusRows(rerunOut);
    expect(rows.map((r) => r.definition)).toEqual(["US_BATCH_1", "US_BATCH_2"]);
    for (const r of rows) expect(r, rerunOut).toMatchObject({ failed: 0, done: r.total, bars: truth.get(r.definition) });
  });
});
