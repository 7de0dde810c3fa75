/**
 * Figure 1, API efficiency on the seed scenario (61 symbols in two baskets,
 * 1Min, one month): Alpaca requests per million bars and bars per request,
 * ours (the planner's default slices through the real orchestrator, workers
 * and simulator) against the same bars fetched the old way: one symbol per
 * request per (New York) weekday. Requests are counted by the simulator. Both
 * sides are deterministic (the simulator's data are a pure function of symbol
 * and time), so one round of each is exact; the rate limit is lifted so only
 * the request pattern is measured.
 */
import { marketData } from "@alpacahq/alpaca-trade-api";
import { DEFAULT_SIM_KEY_ID, DEFAULT_SIM_SECRET, startAlpacaSim } from "../scripts/alpaca-sim/index.ts";
import type { FigureContext, FigureResult } from "./lib/context.ts";
import { metric } from "./lib/metrics.ts";
import { type Basket, nyMidnight, planSeed, SEED_BASKETS, weekdaysOfMonth } from "./lib/seed.ts";
import { drainByTicking, startBenchStack } from "./lib/stack.ts";

const UNLIMITED = 1_000_000;

async function mapLimit<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) await fn(items[next++]!);
  }));
}

/** The old pattern: GET /v2/stocks/{symbol}/bars for one New York day at a time. */
async function oldWay(symbols: string[], year: number, month: number): Promise<{ requests: number; bars: number }> {
  const sim = await startAlpacaSim({ rateLimitPerMin: UNLIMITED });
  try {
    const api = new marketData.StockApi(new marketData.Configuration({ basePath: sim.url, keyId: DEFAULT_SIM_KEY_ID, secret: DEFAULT_SIM_SECRET }));
    const work = symbols.flatMap((symbol) => weekdaysOfMonth(year, month).map((day) => ({ symbol, day })));
    let bars = 0;
    await mapLimit(work, 8, async ({ symbol, day }) => {
      let pageToken: string | undefined;
      do {
        const res = await api.stockBarSingleRaw({
          symbol, timeframe: "1Min", start: day.start, end: new Date(day.end.getTime() - 1000),
          limit: 10_000, feed: "sip", adjustment: "raw", pageToken,
        });
        const body = JSON.parse(await res.raw.text()) as { bars: unknown[] | null; next_page_token: string | null };
        bars += body.bars?.length ?? 0;
        pageToken = body.next_page_token ?? undefined;
      } while (pageToken);
    });
    const stats = sim.stats();
    if (stats.requests !== (stats.byStatus[200] ?? 0)) throw new Error(`old way: non-200 answers ${JSON.stringify(stats.byStatus)}`);
    return { requests: stats.requests, bars };
  } finally {
    await sim.close();
  }
}

/** Ours: plan the month, tick the real orchestrator until every run succeeded. */
async function ours(ctx: FigureContext, baskets: readonly Basket[], start: string, end: string) {
  const db = await ctx.pg.createDatabase("api");
  try {
    const runs = await planSeed(db.sql, start, end, baskets);
    const stack = await startBenchStack(db, {
      sim: { rateLimitPerMin: UNLIMITED },
      env: { ALPACA_REQUESTS_PER_MINUTE: String(UNLIMITED), ORCHESTRATOR_MAX_IN_FLIGHT: "4", LOG_LEVEL: "warn" },
    });
    try {
      const drained = await drainByTicking(stack, { timeoutMs: 300_000 });
      if (drained.timedOut) throw new Error("the seed month did not drain in 5 minutes");
      const [row] = await db.sql<{ ok: number; stored: number }[]>`
        select (select count(*)::int from public.job_runs where status = 'success') as ok,
               (select count(*)::int from public.bars) as stored`;
      if (row!.ok !== runs) {
        const failed = await db.sql`select id, status, attempt, pages_fetched, error_message from public.job_runs where status <> 'success'`;
        throw new Error(`only ${row!.ok} of ${runs} runs succeeded: ${JSON.stringify(failed)}`);
      }
      const stats = stack.sim.stats();
      const perBasket = await db.sql<{ name: string; stored: number }[]>`
        select b.symbol_name as name, count(*)::int as stored
          from (select jd.symbol as symbol_name, jsonb_array_elements_text(jd.symbols_array) as s from public.job_definitions jd) b
          join public.bars on bars.symbol = b.s group by b.symbol_name`;
      return { perBasket, runs, requests: stats.requests, served: stats.barsServed, stored: row!.stored, rateLimited: stats.rateLimited, seconds: drained.ms / 1000 };
    } finally {
      await stack.stop();
    }
  } finally {
    await db.drop();
  }
}

export async function apiEfficiency(ctx: FigureContext): Promise<FigureResult> {
  // The seed month: March 2024 (21 trading days, a DST change). --quick: the same month, US_BATCH_2 only.
  const baskets = ctx.quick ? SEED_BASKETS.filter((b) => b.name === "US_BATCH_2") : SEED_BASKETS;
  const symbols = baskets.flatMap((b) => b.symbols);
  // New York month boundaries on both sides, so both fetch exactly the same bars.
  const ourSide = await ours(ctx, baskets, nyMidnight(2024, 3, 1).toISOString(), nyMidnight(2024, 4, 1).toISOString());
  const old = await oldWay(symbols, 2024, 3);
  ctx.log(`  ours: ${ourSide.runs} runs, ${ourSide.requests} requests, ${ourSide.stored.toLocaleString("en-US")} bars stored in ` +
    `${ourSide.seconds.toFixed(1)} s; old way: ${old.requests} requests, ${old.bars.toLocaleString("en-US")} bars`);
  const sameData = old.bars === ourSide.stored;
  const bound = ourSide.perBasket.reduce((t, b) => t + Math.ceil(b.stored / 10_000), 0);
  const note = `${symbols.length} symbols (${baskets.map((b) => b.name).join(" + ")}), 1Min, March 2024; ours ${ourSide.runs} slices (planner default ` +
    `target) = ${ourSide.requests} requests for ${ourSide.stored.toLocaleString("en-US")} bars; old way ` +
    `${old.requests} requests for ${old.bars.toLocaleString("en-US")} bars${sameData ? " (the same bars)" : " (BAR COUNTS DIFFER)"}; ` +
    `lower bound ${bound} requests at 10,000 bars each (per basket); deterministic, one round`;
  return {
    metrics: [
      metric({
        figure: 1, name: "API efficiency: bars per request", unit: "bars/request",
        values: [ourSide.stored / ourSide.requests], baselineName: "one symbol per request per day",
        baselineValues: [old.bars / old.requests], target: { on: "value", op: ">=", x: 9000, text: "≥ 9,000 bars/request" }, note,
      }),
      metric({
        figure: 1, name: "API efficiency: requests at the lower bound vs requests made", unit: "requests",
        values: [bound], baselineName: "requests made", baselineValues: [ourSide.requests],
        target: { on: "ratio", op: ">=", x: 0.96, text: "≥ 0.96× the bound" },
        note: `lower bound: ${bound} requests = ceil(bars / 10,000) per basket (no request can return more); ` +
          `every slice ends with one partial page, so the ratio measures what slicing costs`,
      }),
      metric({
        figure: 1, name: "API efficiency: requests per million bars", unit: "requests/M bars",
        values: [(ourSide.requests / ourSide.stored) * 1e6], baselineName: "one symbol per request per day",
        baselineValues: [(old.requests / old.bars) * 1e6], target: { on: "value", op: "<=", x: 1e6 / 9000, text: "≤ 111 (= 9,000 bars/request)" },
      }),
    ],
    details: { ours: ourSide, old_way: old, same_data: sameData },
  };
}
