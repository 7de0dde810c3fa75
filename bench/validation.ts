/**
 * Bar validation cost per 10,000 bars: the hand-written guard vs the zod
 * schema, both mapping Alpaca's raw bars to BarRow. Run under Deno (the Edge
 * runtime):  npx deno run -A bench/validation.ts [--rounds 200]
 * Both must reject every malformed bar before their times count.
 */
import { MalformedBarError, toBarRow } from "../supabase/functions/_shared/alpaca/bar-row.ts";
import { toBarRowZod } from "./lib/bar-row-zod.ts";

type Validate = (symbol: string, timeframe: string, raw: unknown) => unknown;

/** Deno's globals, typed locally so the project's tsc (Node types) accepts this file too. */
const runtime = (globalThis as unknown as { Deno: { args: string[]; version: { deno: string } } }).Deno;

const PAGE = 10_000;
const roundsArg = runtime.args.indexOf("--rounds");
const ROUNDS = roundsArg >= 0 ? Number(runtime.args[roundsArg + 1]) : 200;

/** A page as JSON.parse hands it over: 10,000 realistic 1Min bars. */
function rawPage(): unknown[] {
  const bars: unknown[] = [];
  let t = Date.parse("2024-03-05T09:00:00Z");
  let price = 175;
  for (let i = 0; i < PAGE; i++) {
    const o = Math.round(price * 100) / 100;
    price *= 1 + (Math.sin(i * 12.9898) * 43758.5453 % 1) * 0.002;
    const c = Math.round(price * 100) / 100;
    const h = Math.max(o, c) + 0.03;
    const l = Math.min(o, c) - 0.02;
    const v = 1000 + (i * 7919) % 50_000;
    bars.push({ c, h, l, n: Math.ceil(v / 90), o, t: new Date(t).toISOString().slice(0, 19) + "Z", v, vw: Math.round(((h + l) / 2) * 1e6) / 1e6 });
    t += 60_000;
  }
  return JSON.parse(JSON.stringify(bars));
}

const GOOD = { c: 1, h: 1, l: 1, n: 1, o: 1, t: "2024-03-05T14:30:00Z", v: 1, vw: 1 };
const MALFORMED: Array<[string, unknown]> = [
  ["NaN", { ...GOOD, o: NaN }],
  ["missing field", { c: 1, h: 1, l: 1, n: 1, o: 1, t: GOOD.t, v: 1 }],
  ["string volume", { ...GOOD, v: "1" }],
  ["negative volume", { ...GOOD, v: -5 }],
  ["bad timestamp", { ...GOOD, t: "2024-02-30T14:30:00Z" }],
  ["unparseable timestamp", { ...GOOD, t: "yesterday" }],
];

function rejectsAll(validate: Validate): string[] {
  const accepted: string[] = [];
  for (const [name, raw] of MALFORMED) {
    try {
      validate("AAPL", "1Min", raw);
      accepted.push(name);
    } catch (e) {
      if (!(e instanceof MalformedBarError)) throw e;
    }
  }
  return accepted;
}

function measure(validate: Validate, page: unknown[]): { medianMs: number; p90Ms: number } {
  const times: number[] = [];
  let sink = 0;
  for (let r = 0; r < ROUNDS; r++) {
    const start = performance.now();
    for (const raw of page) sink += (validate("AAPL", "1Min", raw) as { volume: number }).volume;
    times.push(performance.now() - start);
  }
  if (sink < 0) console.log(sink); // keep the work observable
  times.sort((a, b) => a - b);
  const at = (q: number) => Number(times[Math.floor(times.length * q)]!.toFixed(2));
  return { medianMs: at(0.5), p90Ms: at(0.9) };
}

const page = rawPage();
const results: Record<string, { medianMs: number; p90Ms: number; acceptsMalformed: string }> = {};
for (const [name, validate] of [["guard", toBarRow], ["zod", toBarRowZod]] as Array<[string, Validate]>) {
  const accepted = rejectsAll(validate);
  measure(validate, page); // warm-up round set
  results[name] = { ...measure(validate, page), acceptsMalformed: accepted.join(", ") || "none" };
}
console.log(`Deno ${runtime.version.deno}, ${ROUNDS} rounds of ${PAGE} bars; ms per 10,000 bars:`);
console.table(results);
const ratio = results.zod!.medianMs / results.guard!.medianMs;
console.log(`zod / guard = ${ratio.toFixed(1)}x`);
