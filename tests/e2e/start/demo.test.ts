/**
 * `npm start` end to end, as a user runs it (non-TTY): the stack comes up, the
 * seed's baskets are backfilled, progress is printed, the status table shows
 * every slice successful with exactly the simulator's bars, and a second run
 * finds nothing left to do.
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { newDataDir, removeDataDir, runStart, seedGroundTruth, statusRows, type StartProcess } from "../../helpers/run-start.ts";

const FROM = "2024-03-04";
const TO = "2024-03-07"; // Mon-Wed: small, and enough for a few slices per basket
const dataDir = newDataDir();
const args = ["--from", FROM, "--to", TO, "--data-dir", dataDir, "--progress-interval", "1"];
const failingDataDir = newDataDir();
const started: StartProcess[] = [];

afterAll(async () => {
  for (const p of started) p.killAll();
  await removeDataDir(dataDir);
  await removeDataDir(failingDataDir);
});

describe("npm start", () => {
  it("backfills the seed's baskets, shows progress and the status table, and exits 0", { timeout: 90_000 }, async () => {
    const run = runStart(args);
    started.push(run);
    const code = await run.exited;
    const out = run.output();
    expect(code, out).toBe(0);

    // One line per component, without the database password.
    expect(out).toMatch(/^Postgres: +postgres:\/\/postgres@127\.0\.0\.1:\d+\/postgres /m);
    expect(out).toMatch(/^Alpaca simulator: +http:\/\/127\.0\.0\.1:\d+/m);
    expect(out).toMatch(/^functions gateway: +http:\/\/127\.0\.0\.1:\d+\/functions\/v1\/ \(pid \d+/m);
    expect(out).not.toMatch(/postgres:postgres@/);
    expect(out).toContain("backfill:          US_BATCH_1 (50 symbols), US_BATCH_2 (11 symbols), 1Min, sip, [2024-03-04, 2024-03-07) UTC");

    // Plain progress lines (no escape codes: stdout is not a terminal).
    expect(out).toMatch(/^progress \[\S+\] US_BATCH_1 \(batch, 1Min\): \d+\/\d+ slices done/m);
    expect(out).toMatch(/^progress \[\S+\] US_BATCH_2 \(batch, 1Min\): \d+\/\d+ slices done/m);
    expect(out).not.toContain("\u001b[");

    const truth = seedGroundTruth(FROM, TO);
    const rows = statusRows(out);
    expect(rows.map((r) => r.definition)).toEqual(["US_BATCH_1", "US_BATCH_2"]);
    for (const r of rows) {
      expect(r).toMatchObject({ kind: "batch", failed: 0, done: r.total, bars: truth.get(r.definition) });
      expect(r.total).toBeGreaterThan(0);
    }
    expect(out).toMatch(/^ {2}psql "postgres:\/\/postgres@127\.0\.0\.1:\d+\/postgres" -c "select .* from public\.bars/m);
    // The embedded Postgres stops with npm start, and the hint says so.
    expect(out).toContain("Query the data: this needs npm start -- --keep-running, because the embedded Postgres stops when npm start exits:");
    // No pg_cron in the embedded Postgres: one plain line says the local scheduler does its job.
    expect(out).toMatch(/^ +\(pg_cron, which ticks the orchestrator every minute on a hosted Supabase project, is not in this database, so npm start ticks it itself/m);
    // What the run spent of Alpaca's budget, and the report written into the data directory.
    const spent = out.match(/^alpaca: +([\d,]+) requests used, ([\d,]+) bars per request, 0 answered 429 \(0 of them deferred a run\)$/m);
    expect(spent, out).not.toBeNull();
    const requests = Number(spent![1]!.replaceAll(",", ""));
    const bars = [...truth.values()].reduce((a, b) => a + b, 0);
    expect(requests).toBeGreaterThan(0);
    expect(Number(spent![2]!.replaceAll(",", ""))).toBe(Math.round(bars / requests));
    const report = join(dataDir, "report.html");
    expect(out).toContain(`report:            ${report} (coverage, spend and errors; open it in a browser)`);
    const html = await readFile(report, "utf8");
    expect(html).toContain('data-rows="61" data-columns="3"');
    expect(out).toContain("every run succeeded.");
    // What the run cost the platform: isolates by how they ended, hand-backs, attempts, connections.
    expect(out).toMatch(/^isolates: +\d+ started, \d+ retired; ended: .*\(limits: 150 s wall clock, 1000\/2000 ms CPU, 256 MB\)$/m);
    expect(out).toMatch(/^runs: +\d+ handed back before an isolate limit, 0 left to their lease; attempts per run: 1×\d+$/m);
    expect(out).toMatch(/^connections: +at most [1-9]\d* to the database at once/m);
  });

  it("resumes on a second run: same definitions, nothing left to do, exit 0", { timeout: 60_000 }, async () => {
    const first = statusRows(started[0]!.output());
    const run = runStart(args);
    started.push(run);
    const code = await run.exited;
    const out = run.output();
    expect(code, out).toBe(0);
    expect(statusRows(out)).toEqual(first);
    // Already drained at the first look: every progress line says done.
    const progress = out.split("\n").filter((l) => l.startsWith("progress "));
    expect(progress.length).toBeGreaterThan(0);
    expect(progress.every((l) => / 0 running .* ETA done$/.test(l))).toBe(true);
  });

  it("exits 1 and shows the error when a run fails", { timeout: 60_000 }, async () => {
    // SIP data of the last 15 minutes is refused to a basic-plan key: a permanent failure.
    const today = new Date().toISOString().slice(0, 10);
    const tomorrow = new Date(Date.now() + 86_400_000).toISOString().slice(0, 10);
    const run = runStart(["--symbols", "AAPL", "--from", today, "--to", tomorrow, "--data-dir", failingDataDir]);
    started.push(run);
    const code = await run.exited;
    const out = run.output();
    expect(code, out).toBe(1);
    expect(statusRows(out)).toEqual([{ definition: "CUSTOM_1", kind: "batch", done: 0, failed: 1, total: 1, bars: 0 }]);
    expect(out).toMatch(/^ {2}failed: CUSTOM_1 slice .*403.*recent SIP data/m);
    expect(out).not.toContain("every run succeeded.");
  });
});
