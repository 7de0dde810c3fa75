/**
 * Access over HTTP: every function refuses a request without the service key
 * (none, a wrong one, the anon key, in either header; with a well-formed body
 * or an empty one) with 401 and does nothing; and no captured log line,
 * stored error or response ever contains the Alpaca secret or the service
 * key, also when things fail (Alpaca 500s, Alpaca refusing a wrong secret,
 * bad requests that carry the secrets as values).
 *
 * What the `anon` and `authenticated` roles may do in the database (nothing)
 * is proved at the SQL level, from the catalog, in
 * tests/integration/queue/access.test.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEFAULT_SIM_KEY_ID, DEFAULT_SIM_SECRET } from "../../../scripts/alpaca-sim/index.ts";
import { linesLeaking, printFigures, tableDigest } from "../../helpers/resilience-checks.ts";
import { ANON_KEY, SERVICE_KEY, startStack, type Stack } from "../../helpers/stack.ts";

const WRONG_ALPACA_SECRET = "wrong-alpaca-secret-5f0c2a9e7d";
const FUNCTIONS = ["orchestrator", "fetch-bars", "fetch-bars-batch"] as const;

let stack: Stack;
/** Every line of every gateway this file started (a restart starts a new log). */
const earlierLogs: string[] = [];
const allLogs = () => [...earlierLogs, ...stack.gateway.logs()];
const figures: Record<string, unknown> = {};

beforeAll(async () => {
  stack = await startStack({ sim: { rateLimitPerMin: 100_000 }, env: { ALPACA_REQUESTS_PER_MINUTE: "100000", ALPACA_TIMEOUT_MS: "5000" } });
  // Data to protect: a finished run with bars, and a queued run that any leaked tick would claim.
  await stack.sql`select public.plan_backfill('single', 'AAPL', null, '1Min', '2024-03-04Z', '2024-03-05Z', p_target_bars => 600)`;
  await stack.drain({ timeoutMs: 30_000 });
  await stack.sql`select public.plan_backfill('batch', 'US_BATCH_1', '["MSFT","NVDA"]'::jsonb, '1Min', '2024-03-04Z', '2024-03-05Z')`;
});
afterAll(async () => {
  printFigures("access", figures);
  await stack?.stop();
});

const slices = {
  orchestrator: { maxRuns: 5 },
  "fetch-bars": {
    runId: "1", jobDefId: "1", attempt: 1, worker: "orchestrator:x", kind: "single", symbol: "AAPL", timeframe: "1Min", feed: "sip",
    adjustment: "raw", sliceStart: "2024-03-05T00:00:00.000Z", sliceEnd: "2024-03-06T00:00:00.000Z", pageToken: null,
  },
  "fetch-bars-batch": {
    runId: "2", jobDefId: "2", attempt: 1, worker: "orchestrator:x", kind: "batch", name: "US_BATCH_1", symbols: ["MSFT", "NVDA"],
    timeframe: "1Min", feed: "sip", adjustment: "raw", sliceStart: "2024-03-04T00:00:00.000Z", sliceEnd: "2024-03-05T00:00:00.000Z",
    pageToken: null,
  },
};

describe("the functions' key check", () => {
  it("answers 401 to no key, wrong keys and the anon key, in either header, and has no effect", async () => {
    const before = await tableDigest(stack.sql);
    const requestsBefore = stack.sim.stats().requests;
    const work = () => allLogs().filter((l) => /"event":"(tick|slice_accepted|route)"/.test(l)).length;
    const workBefore = work();
    const credentials: Array<[string, Record<string, string>]> = [
      ["no key", {}],
      ["wrong apikey", { apikey: "wrong-key" }],
      ["wrong bearer", { authorization: "Bearer wrong-key" }],
      ["anon apikey", { apikey: ANON_KEY }],
      ["anon bearer", { authorization: `Bearer ${ANON_KEY}` }],
      ["JWT-shaped key", { authorization: "Bearer eyJhbGciOiJIUzI1NiJ9.eyJyb2xlIjoic2VydmljZV9yb2xlIn0.c2ln" }],
      ["service key prefix", { apikey: SERVICE_KEY.slice(0, -1) }],
      ["service key plus a byte", { apikey: `${SERVICE_KEY}x` }],
      ["service key, other case", { apikey: SERVICE_KEY.toUpperCase() }],
      ["empty bearer", { authorization: "Bearer " }],
      ["basic auth", { authorization: `Basic ${Buffer.from(`service:${SERVICE_KEY}`).toString("base64")}` }],
      ["the Alpaca secret", { apikey: DEFAULT_SIM_SECRET }],
    ];
    const problems: string[] = [];
    let requests = 0;
    for (const fn of FUNCTIONS) {
      for (const [label, headers] of credentials) {
        // A well-formed body (so the 401 is not a bad-input refusal in disguise) and an empty one.
        for (const [bodyLabel, body] of [["slice", slices[fn]], ["{}", {}]] as const) {
          const res = await fetch(`${stack.gateway.url}/functions/v1/${fn}`, {
            method: "POST",
            headers: { "content-type": "application/json", ...headers },
            body: JSON.stringify(body),
          });
          requests++;
          const text = await res.text();
          const what = `${fn} with ${label} and body ${bodyLabel}`;
          if (res.status !== 401) problems.push(`${what}: ${res.status} ${text.slice(0, 200)}`);
          else if (!/unauthori[sz]ed|invalid|missing/i.test(text)) problems.push(`${what}: unclear 401 body ${text}`);
        }
      }
    }
    expect(problems).toEqual([]);
    // No tick ran (the queued run is untouched), no worker fetched, nothing was written anywhere.
    expect(stack.sim.stats().requests).toBe(requestsBefore);
    expect(await tableDigest(stack.sql)).toEqual(before);
    expect(work()).toBe(workBefore);
    figures.unauthorized_requests = requests;
  });
});

describe("secrets in logs and stored errors", () => {
  const SECRETS = [DEFAULT_SIM_SECRET, SERVICE_KEY, WRONG_ALPACA_SECRET, DEFAULT_SIM_KEY_ID];

  async function storedErrors(): Promise<string[]> {
    const rows = await stack.sql<{ text: string }[]>`
      select coalesce(error_message, '') || ' ' || errors::text as text from public.job_runs`;
    return rows.map((r) => r.text);
  }

  it("stay out of every log line and error, through Alpaca 500s, bad requests carrying them, and a wrong Alpaca secret", async () => {
    // Failures with the right credentials: Alpaca answering 500 until the run gives up.
    stack.sim.setFaults({ seed: 2, error500: 1 });
    await stack.sql`select public.plan_backfill('single', 'IBM', null, '1Min', '2024-03-04Z', '2024-03-05Z', p_max_attempts => 2)`;
    await stack.drain({ timeoutMs: 30_000 });
    stack.sim.setFaults(undefined);
    // Requests that carry the secrets as values, refused as bad input.
    for (const [field, value] of [["symbol", DEFAULT_SIM_SECRET], ["worker", SERVICE_KEY], ["pageToken", 42], ["timeframe", SERVICE_KEY]] as const) {
      const res = await stack.invoke("fetch-bars", { ...slices["fetch-bars"], [field]: value, ...(field === "pageToken" ? { symbol: DEFAULT_SIM_SECRET } : {}) });
      expect(res.status).toBe(field === "worker" ? 202 : 400);
      expect(JSON.stringify(res.body)).not.toContain(DEFAULT_SIM_SECRET);
      expect(JSON.stringify(res.body)).not.toContain(SERVICE_KEY);
    }
    // The service key as the wrong key of a request is not echoed either.
    expect((await stack.invoke("orchestrator", {}, DEFAULT_SIM_SECRET)).status).toBe(401);

    // Now a project configured with a wrong Alpaca secret: Alpaca refuses the key (401), the run fails at once.
    await stack.gateway.stop({ timeoutMs: 10_000 });
    earlierLogs.push(...stack.gateway.logs());
    stack.env.APCA_API_SECRET_KEY = WRONG_ALPACA_SECRET;
    await stack.restartGateway();
    const unauthorizedBefore = stack.sim.stats().byStatus[401] ?? 0;
    const [{ id: defId }] = await stack.sql`select public.plan_backfill('batch', 'SECRET_TEST', '["KO","V"]'::jsonb, '1Min',
                                              '2024-03-04Z', '2024-03-05Z') as id`;
    await stack.drain({ timeoutMs: 30_000 });
    const [run] = await stack.sql`select status, attempt, error_message from public.job_runs where job_def_id = ${defId}`;
    expect(run).toEqual({ status: "failed", attempt: 1, error_message: "Alpaca rejected the API key (401)" });
    expect((stack.sim.stats().byStatus[401] ?? 0) - unauthorizedBefore).toBe(1);

    const [ibm] = await stack.sql`select status, error_message from public.job_runs jr join public.job_definitions jd on jd.id = jr.job_def_id
                                   where jd.symbol = 'IBM'`;
    expect(ibm).toMatchObject({ status: "failed", error_message: "Alpaca server error (500): internal server error" });

    const logs = allLogs();
    // The logs did record the failures (so the check below is not vacuous)...
    expect(logs.some((l) => l.includes("Alpaca rejected the API key (401)"))).toBe(true);
    expect(logs.some((l) => l.includes("Alpaca server error (500)"))).toBe(true);
    expect(logs.some((l) => l.includes('"event":"bad_request"'))).toBe(true);
    // ...and no line, stored error or response carries a secret.
    expect(linesLeaking(logs, SECRETS)).toEqual([]);
    expect(linesLeaking(await storedErrors(), SECRETS)).toEqual([]);
    figures.log_lines_scanned = logs.length;
    figures.secrets_found = 0;
  });
});
