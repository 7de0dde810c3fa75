/**
 * Bad input, table-driven, against the real gateway and the real database:
 * malformed JSON, wrong types, missing fields, oversize bodies, unknown
 * functions, wrong methods, SQL-injection strings in symbols and basket names,
 * unknown timeframes, inverted ranges, and every rule of job_definitions. Each
 * gets a clear 4xx whose message names the field (or a refused insert naming
 * the rule), and nothing is written: every table's contents are identical
 * before and after, and Alpaca was never called.
 * Longer than most files: one table of every bad input, checked at every boundary against one stack.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { printFigures, tableDigest } from "../../helpers/resilience-checks.ts";
import { SERVICE_KEY, startStack, type Stack } from "../../helpers/stack.ts";

let stack: Stack;
let digest: Record<string, string>;
const tried: Record<string, number> = {};

beforeAll(async () => {
  stack = await startStack({ sim: { rateLimitPerMin: 100_000 }, env: { ALPACA_REQUESTS_PER_MINUTE: "100000" } });
  // Something to destroy: a finished run with its bars, and a queued run that a leaked tick would claim.
  await stack.sql`select public.plan_backfill('single', 'AAPL', null, '1Min', '2024-03-04Z', '2024-03-05Z', p_target_bars => 600)`;
  await stack.drain({ timeoutMs: 30_000 });
  await stack.sql`select public.plan_backfill('batch', 'US_BATCH_1', '["MSFT","NVDA"]'::jsonb, '1Min', '2024-03-04Z', '2024-03-05Z')`;
  const [{ bars }] = await stack.sql`select count(*)::int as bars from public.bars`;
  expect(bars).toBeGreaterThan(0);
  digest = await tableDigest(stack.sql);
  stack.sim.resetStats();
});
afterAll(async () => {
  const counts = Object.values(tried);
  if (counts.length > 0) {
    printFigures("bad input", { bad_inputs_tried: counts.reduce((a, b) => a + b, 0), by_category: tried, written: 0, alpaca_requests: stack?.sim.stats().requests });
  }
  await stack?.stop();
});

const SINGLE = {
  runId: "1", jobDefId: "1", attempt: 1, worker: "orchestrator:x", kind: "single", symbol: "AAPL", timeframe: "1Min",
  feed: "sip", adjustment: "raw", sliceStart: "2024-03-04T00:00:00.000Z", sliceEnd: "2024-03-05T00:00:00.000Z", pageToken: null,
};
const { symbol: _symbol, ...BASE } = SINGLE;
const BATCH = { ...BASE, kind: "batch", name: "US_BATCH_1", symbols: ["AAPL", "MSFT"] };
const WORKERS = [["fetch-bars", SINGLE], ["fetch-bars-batch", BATCH]] as const;

const INJECTIONS = [
  "AAPL'; DROP TABLE public.bars; --",
  "AAPL' OR '1'='1",
  "AAPL\"); DELETE FROM public.job_runs; --",
  "US_BATCH_1'; UPDATE public.job_runs SET status = 'success'; --",
  "$$; TRUNCATE public.job_definitions CASCADE; $$",
  "AAPL\u0000",
];
/** Postgres refuses NUL in text before any rule runs, so the database cases use the others. */
const SQL_INJECTIONS = INJECTIONS.filter((s) => !s.includes("\u0000"));
const BAD_TIMEFRAMES = ["1Minute", "60Min", "0Min", "1min", "1T", "24Hour", "2Day", "5Week", "1Year", "", "1Min; DROP TABLE public.bars"];

interface HttpCase {
  category: string;
  fn: string;
  method?: string;
  body?: BodyInit | null;
  /** Default: the service key (bad input must be refused for what it is, not for a missing key). */
  key?: string | null;
  status: number;
  /** The field the message must name ("field: ..." or "a.b: ..."), or a pattern the message must match. */
  names?: string | RegExp;
}

const json = (v: unknown) => JSON.stringify(v);
const without = (o: Record<string, unknown>, k: string) => Object.fromEntries(Object.entries(o).filter(([key]) => key !== k));

function httpCases(): HttpCase[] {
  const cases: HttpCase[] = [];
  const fns = ["orchestrator", "fetch-bars", "fetch-bars-batch"];
  for (const fn of fns) {
    for (const text of ['{"runId": "1",', "{runId: 1}", "not json", '{"a": 1}}', "\u0000", "{'maxRuns': 1}"]) {
      cases.push({ category: "malformed JSON", fn, body: text, status: 400, names: "body" });
    }
    for (const text of ["[]", '"text"', "42", "null", "true"]) {
      cases.push({ category: "wrong types", fn, body: text, status: 400, names: "body" });
    }
    cases.push({ category: "oversize body", fn, body: json({ pad: "x".repeat(fn === "orchestrator" ? 20_000 : 300_000) }), status: 413, names: /body exceeds \d+ bytes/ });
    // No Content-Length: the limit must hold on the bytes read, not on what the client declares.
    cases.push({
      category: "oversize body", fn, status: 413, names: /body exceeds \d+ bytes/,
      body: new ReadableStream({
        start(c) {
          const chunk = new TextEncoder().encode("x".repeat(64 * 1024));
          for (let i = 0; i < 6; i++) c.enqueue(chunk);
          c.close();
        },
      }),
    });
    for (const method of ["GET", "PUT", "PATCH", "DELETE", "OPTIONS"]) {
      cases.push({ category: "wrong method", fn, method, body: method === "GET" ? null : "{}", status: 405, names: /POST/ });
    }
    cases.push({ category: "wrong method", fn, method: "HEAD", body: null, status: 405 });
    cases.push({ category: "wrong method", fn, method: "PROPFIND", body: null, status: 405, names: /not allowed/i });
  }
  for (const name of ["nope", "_shared", "fetch_bars", "Orchestrator", "orchestrator2", "fetch-bars-batch-2", "%2e%2e", "orchestrator%00"]) {
    cases.push({ category: "unknown function", fn: name, body: "{}", status: 404, names: /not found|no route/i });
  }

  // The orchestrator's body: { maxRuns?: 1..100 } and nothing else.
  for (const maxRuns of ["5", 0, 101, -1, 2.5, null, [1], "1; DELETE FROM public.job_runs"]) {
    cases.push({ category: maxRuns === "1; DELETE FROM public.job_runs" ? "SQL injection" : "wrong types", fn: "orchestrator", body: json({ maxRuns }), status: 400, names: "maxRuns" });
  }
  cases.push({ category: "wrong types", fn: "orchestrator", body: json({ tick: 5 }), status: 400, names: "tick" });
  cases.push({ category: "unknown field", fn: "orchestrator", body: json({ maxRun: 5 }), status: 400, names: /maxRun"/ });

  for (const [fn, valid] of WORKERS) {
    const v = valid as Record<string, unknown>;
    cases.push({ category: "missing fields", fn, body: "", status: 400, names: "body" });
    for (const field of Object.keys(v)) cases.push({ category: "missing fields", fn, body: json(without(v, field)), status: 400, names: field });
    const wrong: Array<[string, unknown]> = [
      ["runId", 1], ["runId", "1 OR 1=1"], ["runId", "-1"], ["jobDefId", true], ["attempt", "1"], ["attempt", 0], ["attempt", 1.5],
      ["worker", 42], ["worker", ""], ["worker", "w".repeat(201)], ["feed", "nasdaq"], ["adjustment", "raw,weird"],
      ["sliceStart", "yesterday"], ["sliceStart", "2024-02-30T00:00:00Z"], ["sliceEnd", 1709596800000], ["pageToken", 5],
      ["pageToken", ""], ["kind", fn === "fetch-bars" ? "batch" : "single"], ["kind", "both"],
    ];
    if (fn === "fetch-bars") wrong.push(["symbol", ["AAPL"]], ["symbol", "aapl"], ["symbol", "US_BATCH_1"], ["symbol", ""]);
    else wrong.push(["symbols", "AAPL,MSFT"], ["symbols", []], ["symbols", ["AAPL", "AAPL"]], ["name", ""], ["name", 7]);
    for (const [field, value] of wrong) cases.push({ category: "wrong types", fn, body: json({ ...v, [field]: value }), status: 400, names: field });
    for (const tf of BAD_TIMEFRAMES) cases.push({ category: "unknown timeframe", fn, body: json({ ...v, timeframe: tf }), status: 400, names: "timeframe" });
    for (const s of INJECTIONS) {
      if (fn === "fetch-bars") cases.push({ category: "SQL injection", fn, body: json({ ...v, symbol: s }), status: 400, names: "symbol" });
      else {
        cases.push({ category: "SQL injection", fn, body: json({ ...v, name: s }), status: 400, names: "name" });
        cases.push({ category: "SQL injection", fn, body: json({ ...v, symbols: ["AAPL", s] }), status: 400, names: "symbols.1" });
      }
    }
    cases.push({ category: "unknown field", fn, body: json({ ...v, symbols_array: ["AAPL"], extra: 1 }), status: 400, names: /extra/ });
    // Inverted and empty ranges: refused before any I/O, like every other malformed slice.
    cases.push({ category: "inverted range", fn, body: json({ ...v, sliceStart: v.sliceEnd, sliceEnd: v.sliceStart }), status: 400, names: "sliceEnd" });
    cases.push({ category: "inverted range", fn, body: json({ ...v, sliceEnd: v.sliceStart }), status: 400, names: "sliceEnd" });
  }
  return cases;
}

async function send(c: HttpCase): Promise<{ status: number; message: string }> {
  const key = c.key === undefined ? SERVICE_KEY : c.key;
  const res = await fetch(`${stack.gateway.url}/functions/v1/${c.fn}`, {
    method: c.method ?? "POST",
    headers: { "content-type": "application/json", ...(key ? { apikey: key } : {}) },
    body: c.body ?? undefined,
    duplex: "half",
  } as RequestInit);
  const text = await res.text();
  let message = text;
  try {
    const parsed = JSON.parse(text) as { message?: string };
    message = parsed.message ?? text;
  } catch {
    // keep the text
  }
  return { status: res.status, message };
}

const namesField = (message: string, field: string) =>
  new RegExp(`(^|; )${field.replace(/\./g, "\\.")}[.:]`).test(message);

describe("bad input over HTTP", () => {
  it("each malformed request gets a clear 4xx naming the field, and nothing is written or fetched", async () => {
    const cases = httpCases();
    const problems: string[] = [];
    for (const c of cases) {
      const res = await send(c);
      tried[c.category] = (tried[c.category] ?? 0) + 1;
      const label = `${c.method ?? "POST"} ${c.fn} [${c.category}] ${typeof c.body === "string" ? c.body.slice(0, 80) : "(stream)"}`;
      if (res.status !== c.status) problems.push(`${label}: status ${res.status}, expected ${c.status} (${res.message.slice(0, 120)})`);
      else if (typeof c.names === "string" && !namesField(res.message, c.names)) problems.push(`${label}: message does not name ${c.names}: ${res.message}`);
      else if (c.names instanceof RegExp && !c.names.test(res.message)) problems.push(`${label}: message ${JSON.stringify(res.message)} !~ ${c.names}`);
    }
    expect(problems).toEqual([]);
    expect(stack.sim.stats().requests).toBe(0);
    expect(await tableDigest(stack.sql)).toEqual(digest);
    // The refusals are logged (as rejected), by field, never as a crash of the function.
    const logs = stack.gateway.logs();
    expect(logs.some((l) => l.includes('"event":"bad_request"'))).toBe(true);
    expect(logs.filter((l) => /uncaught exception|WORKER_ERROR/.test(l))).toEqual([]);
  });
});

describe("bad definitions in the database", () => {
  const base = { kind: "single", symbol: "AAPL", symbols_array: null as unknown, timeframe: "1Min", feed: "sip", adjustment: "raw",
    range_start: "2024-01-01Z", range_end: "2024-01-02Z", max_attempts: 5, target_bars: 100_000, caught_up_at: null as string | null };
  type Def = typeof base;
  /** symbols_array as JSON text (parsed here, so postgres.js sends it as that JSON value). */
  const batch = (symbols_array: string | null, symbol = "B1"): Partial<Def> =>
    ({ kind: "batch", symbol, symbols_array: symbols_array === null ? null : JSON.parse(symbols_array) });
  /** Every named rule of job_definitions, with definitions that break it. */
  const RULES: Record<string, Partial<Def>[]> = {
    kind_is_single_or_batch: [{ kind: "both" }, { kind: "" }, { kind: "single'; DROP TABLE public.bars; --" }],
    single_symbol_is_a_ticker: [{ symbol: "US_BATCH_1" }, { symbol: "aapl" }, ...SQL_INJECTIONS.map((symbol) => ({ symbol }))],
    single_has_no_symbols_array: [{ symbols_array: ["AAPL"] }],
    batch_name_is_a_name: [batch('["AAPL"]', ""), batch('["AAPL"]', "-B1"), ...SQL_INJECTIONS.map((s) => batch('["AAPL"]', s))],
    batch_has_symbols_array: [batch(null)],
    batch_symbols_array_is_an_array: [batch('{"AAPL": 1}'), batch('"AAPL"')],
    batch_symbols_array_is_not_empty: [batch("[]")],
    batch_symbols_are_tickers: [batch('["AAPL", 1]'), batch('["aapl"]'), ...SQL_INJECTIONS.map((s) => batch(JSON.stringify(["AAPL", s])))],
    batch_symbols_are_unique: [batch('["AAPL", "MSFT", "AAPL"]')],
    batch_fits_one_request: [batch(JSON.stringify(Array.from({ length: 501 }, (_, i) =>
      `T${String.fromCharCode(65 + (i % 26))}${String.fromCharCode(65 + (Math.floor(i / 26) % 26))}`)))],
    timeframe_is_alpaca_timeframe: BAD_TIMEFRAMES.map((timeframe) => ({ timeframe })),
    feed_is_known: [{ feed: "nasdaq" }, { feed: "" }],
    adjustment_is_known: [{ adjustment: "none" }, { adjustment: "raw," }],
    range_is_not_empty: [{ range_start: "2024-01-02Z", range_end: "2024-01-01Z" }, { range_end: "2024-01-01Z" }],
    max_attempts_is_positive: [{ max_attempts: 0 }, { max_attempts: -3 }],
    target_bars_is_positive: [{ target_bars: 0 }, { target_bars: -100 }],
    // Only the catch-up writes it, and only for a followed definition (plan_backfill has no such parameter).
    only_followed_definitions_catch_up: [{ caught_up_at: "2024-01-03Z" }],
    // The baseline definition of this file exists already.
    definition_is_unique: [{ range_start: "2024-03-04Z", range_end: "2024-03-05Z" }],
  };

  it("covers every rule declared on job_definitions", async () => {
    const declared = await stack.sql<{ conname: string }[]>`
      select conname from pg_constraint where conrelid = 'public.job_definitions'::regclass and contype in ('c', 'u') order by 1`;
    expect(Object.keys(RULES).sort()).toEqual(declared.map((r) => r.conname).sort());
  });

  it("refuses each bad definition, by insert and through plan_backfill, naming the broken rule; nothing is written", async () => {
    const problems: string[] = [];
    let refused = 0;
    for (const [rule, defs] of Object.entries(RULES)) {
      for (const partial of defs) {
        const d = { ...base, ...partial };
        const symbols = d.symbols_array === null ? null : stack.sql.json(d.symbols_array as never);
        const insert = stack.sql`
          insert into public.job_definitions (kind, symbol, symbols_array, timeframe, feed, adjustment, range_start, range_end, max_attempts,
                                              target_bars, caught_up_at)
          values (${d.kind}, ${d.symbol}, ${symbols}::jsonb, ${d.timeframe}, ${d.feed}, ${d.adjustment},
                  ${d.range_start}, ${d.range_end}, ${d.max_attempts}, ${d.target_bars}, ${d.caught_up_at})`;
        // plan_backfill ignores symbols_array for a single, and creates nothing for an existing definition.
        const viaPlanner = d.kind === "single" && d.symbols_array !== null || rule === "definition_is_unique" ||
            rule === "only_followed_definitions_catch_up" ? null
          : stack.sql`select public.plan_backfill(${d.kind}, ${d.symbol}, ${symbols}::jsonb, ${d.timeframe}, ${d.range_start},
                        ${d.range_end}, p_feed => ${d.feed}, p_adjustment => ${d.adjustment}, p_max_attempts => ${d.max_attempts},
                        p_target_bars => ${d.target_bars})`;
        for (const [how, attempt] of [["insert", insert], ["plan_backfill", viaPlanner]] as const) {
          if (!attempt) continue;
          const err = await attempt.then(() => null, (e: { constraint_name?: string; message: string }) => e);
          tried["invalid definition"] = (tried["invalid definition"] ?? 0) + 1;
          if (SQL_INJECTIONS.some((i) => JSON.stringify(partial).includes(JSON.stringify(i).slice(1, -1)))) {
            tried["SQL injection"] = (tried["SQL injection"] ?? 0) + 1;
          }
          if (!err) problems.push(`${rule} via ${how}: ${JSON.stringify(partial)} was accepted`);
          else if (err.constraint_name !== rule || !err.message.includes(rule)) {
            problems.push(`${rule} via ${how}: ${JSON.stringify(partial)} refused by ${err.constraint_name ?? "?"}: ${err.message}`);
          } else refused++;
        }
      }
    }
    expect(problems).toEqual([]);
    expect(refused).toBeGreaterThan(Object.keys(RULES).length);
    // The injected SQL ran nowhere: every table is as it was, byte for byte.
    expect(await tableDigest(stack.sql)).toEqual(digest);
  });
});
