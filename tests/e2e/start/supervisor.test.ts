/**
 * `npm start` supervises what it started: a functions gateway or a Postgres
 * killed with SIGKILL mid-run is restarted, the runs they held come back by
 * lease expiry, and the run still ends with exit 0 and every bar.
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { isAlive, newDataDir, removeDataDir, runStart, seedGroundTruth, statusRows, type StartProcess } from "../../helpers/run-start.ts";

const FROM = "2024-03-11";
const TO = "2024-03-16"; // a week
const dataDir = newDataDir();
const started: StartProcess[] = [];

afterAll(async () => {
  for (const p of started) p.killAll();
  await removeDataDir(dataDir);
});

describe("npm start supervision", () => {
  it("restarts a gateway and a Postgres killed mid-run and still exits 0 with every bar", { timeout: 120_000 }, async () => {
    const run = runStart(["--from", FROM, "--to", TO, "--data-dir", dataDir, "--progress-interval", "1"], { JOB_LEASE_SECONDS: "10" });
    started.push(run);
    const gatewayPid = Number((await run.waitFor(/^functions gateway: .*\(pid (\d+)/m))[1]);
    await run.waitFor(/^progress .*US_BATCH_1 .*\| [1-9][\d,]* bars/m);

    process.kill(gatewayPid, "SIGKILL");
    const restartedPid = Number((await run.waitFor(/^functions gateway restarted: \S+ \(pid (\d+)\)/m, 30_000))[1]);
    expect(restartedPid).not.toBe(gatewayPid);
    expect(isAlive(restartedPid)).toBe(true);

    const pgPid = Number((await readFile(join(dataDir, "pg", "postmaster.pid"), "utf8")).split("\n")[0]);
    process.kill(pgPid, "SIGKILL");
    await run.waitFor(/^Postgres restarted \(pid \d+\)/m, 30_000);

    const code = await run.exited;
    const out = run.output();
    expect(code, out).toBe(0);
    expect(out).toContain("functions gateway exited unexpectedly (signal SIGKILL)");
    const truth = seedGroundTruth(FROM, TO);
    const rows = statusRows(out);
    expect(rows.map((r) => r.definition)).toEqual(["US_BATCH_1", "US_BATCH_2"]);
    for (const r of rows) expect(r, out).toMatchObject({ failed: 0, done: r.total, bars: truth.get(r.definition) });
    expect(isAlive(restartedPid)).toBe(false);
  });
});
