/**
 * `npm start -- --scheduler cron` on the hosted-like database: it points the
 * Vault secrets at its own functions gateway, schedules the tick with the
 * setup function, and the backfill drains by pg_cron's ticks alone; on exit it
 * puts back what it changed and says so: the sweeper it scheduled is
 * unscheduled, the tick the migration had scheduled is kept, the secret that
 * existed gets its value back and the one it created is deleted.
 *
 * Needs HOSTED_DB_URL, like cron-tick.test.ts (the two take turns on it).
 * About a minute: the first tick waits for pg_cron's next minute boundary.
 */
import { readFile } from "node:fs/promises";
import type { Sql } from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  connectHostedDb, deleteVaultSecrets, HOSTED_DB_URL, lockHostedDb, resetProjectState, setVaultSecret, SWEEPER_JOB,
  TICK_JOB, TICK_SECRETS, warnSkipped,
} from "../../helpers/hosted-db.ts";
import { tickOrigins } from "../../helpers/hosted-figures.ts";
import { newDataDir, removeDataDir, runStart, seedGroundTruth, type StartProcess, statusRows } from "../../helpers/run-start.ts";

warnSkipped("tests/e2e/hosted/start-cron.test.ts");

const FROM = "2024-03-04";
const TO = "2024-03-06"; // two days: one slice per basket
const OLD_URL = "http://127.0.0.1:9/not-this-run";

describe.skipIf(!HOSTED_DB_URL)("npm start --scheduler cron (HOSTED_DB_URL)", () => {
  const url = HOSTED_DB_URL ?? "";
  const dataDir = newDataDir();
  let sql: Sql;
  let release: (() => Promise<void>) | undefined;
  let run: StartProcess | undefined;

  beforeAll(async () => {
    sql = await connectHostedDb(url);
    release = await lockHostedDb(url);
    await resetProjectState(sql, url);
    // The migration scheduled both jobs; one is removed, so this run schedules it. One secret exists already.
    await sql`select cron.unschedule(jobid) from cron.job where jobname = ${SWEEPER_JOB} and username = current_user`;
    await setVaultSecret(sql, "project_url", OLD_URL);
  }, 10 * 60_000); // includes waiting for another tests/e2e/hosted file

  afterAll(async () => {
    run?.killAll();
    if (sql) await deleteVaultSecrets(sql, [...TICK_SECRETS]).catch(() => {});
    await sql?.end({ timeout: 5 });
    await release?.();
    await removeDataDir(dataDir);
  });

  it("drains the backfill by pg_cron's ticks alone, then puts the schedule and the secrets back", { timeout: 4 * 60_000 }, async () => {
    const [tickBefore] = await sql<{ jobid: string; command: string }[]>`
      select jobid::text, command from cron.job where jobname = ${TICK_JOB} and username = current_user`;
    const [{ since, baseline }] = await sql<{ since: Date; baseline: string }[]>`
      select now() as since, coalesce((select max(id) from net._http_response), 0)::text as baseline`;

    run = runStart(["--scheduler", "cron", "--from", FROM, "--to", TO, "--data-dir", dataDir, "--progress-interval", "5"],
                   { DATABASE_URL: url });
    const code = await run.exited;
    const out = run.output();
    expect(code, out).toBe(0);

    const [, gateway] = out.match(/^functions gateway: +(http:\/\/127\.0\.0\.1:\d+)\/functions\/v1\//m) ?? [];
    expect(gateway, out).toBeDefined();
    expect(out).toMatch(new RegExp(`^scheduler: +pg_cron in the database ticks ${gateway}/functions/v1/orchestrator every minute .*no local ticks`, "m"));
    expect(out).toMatch(/^ +\(scheduled bars-orchestrator-tick \(job \d+, \* \* \* \* \*\): select public\.post_orchestrator_tick\(10000\)\)$/m);
    expect(out).not.toMatch(/warning:|tick failed|pg_net: the tick got/);

    const truth = seedGroundTruth(FROM, TO);
    const rows = statusRows(out);
    expect(rows.map((r) => r.definition)).toEqual(["US_BATCH_1", "US_BATCH_2"]);
    for (const r of rows) expect(r).toMatchObject({ kind: "batch", failed: 0, done: r.total, bars: truth.get(r.definition) });
    expect(out).toContain("every run succeeded.");

    // Only pg_cron ticked (and workers that handed a run back): each of its requests was answered 200.
    // (A firing while npm start was still coming up fails for the missing key, as it did before the run.)
    const cron = await sql<{ status: string; return_message: string }[]>`
      select status, return_message from cron.job_run_details where jobid = ${tickBefore!.jobid} and start_time >= ${since}
       order by start_time`;
    const net = await sql<{ status_code: number; content: string | null }[]>`
      select status_code, content from net._http_response where id > ${baseline}::bigint`;
    const succeeded = cron.filter((r) => r.status === "succeeded");
    expect(succeeded.length).toBeGreaterThan(0);
    for (const r of cron.filter((c) => c.status !== "succeeded")) {
      expect(r.return_message).toMatch(/Vault secret\(s\) missing: orchestrator_secret_key;/);
    }
    expect(net.length).toBeGreaterThan(0);
    expect(net.every((r) => r.status_code === 200)).toBe(true);
    const log = (await readFile(`${dataDir}/functions.log`, "utf8")).split("\n");
    const origins = tickOrigins(log, net.map((r) => r.content));
    expect(origins).toMatchObject({ cron: net.length, unmatched: 0 });
    const [{ handedBack }] = await sql<{ handedBack: number }[]>`
      select count(*)::int as "handedBack" from public.job_runs, jsonb_array_elements(errors) e where e->>'kind' = 'handed_back'`;
    expect(origins.kicks).toBeLessThanOrEqual(handedBack);

    // Put back, and said so.
    expect(out).toMatch(new RegExp(`^pg_cron: unscheduled ${SWEEPER_JOB} \\(job \\d+\\), scheduled by this run$`, "m"));
    expect(out).toContain(`pg_cron: kept ${TICK_JOB} (job ${tickBefore!.jobid}): it was scheduled before this run`);
    expect(out).toContain("Vault: restored project_url, deleted orchestrator_secret_key");
    const jobs = await sql<{ jobid: string; jobname: string; command: string }[]>`
      select jobid::text, jobname, command from cron.job where jobname in (${TICK_JOB}, ${SWEEPER_JOB}) and username = current_user`;
    expect(jobs).toEqual([{ jobid: tickBefore!.jobid, jobname: TICK_JOB, command: tickBefore!.command }]);
    const secrets = await sql<{ name: string; value: string }[]>`
      select name, decrypted_secret as value from vault.decrypted_secrets where name in ${sql([...TICK_SECRETS])}`;
    expect(secrets).toEqual([{ name: "project_url", value: OLD_URL }]);
    console.log(`[hosted] npm start --scheduler cron: ${succeeded.length} pg_cron tick(s), ${net.length} answered 200, ` +
      `${origins.kicks} asked for by workers; ` +
      `${rows.map((r) => `${r.definition} ${r.bars} bars`).join(", ")}`);
  });
});
