/**
 * Figure 3, ingest: bars per second through the workers' path (saveBarsPage ->
 * save_bars_page: parallel arrays sent as text literals, one unnest INSERT, the
 * upsert only when a bar already exists, plus the checkpoint, one call per
 * 10,000-bar page) against COPY into the same table on the same database: one
 * COPY statement per 10,000-bar page (the same unit of work and commit; the
 * target's baseline), and one COPY of all the rows streamed in 1,000-line
 * chunks (the practical limit, where formatting overlaps the server's work;
 * information). Also one INSERT per row (autocommit). Rounds interleave the
 * methods; each writes new rows into an emptied table.
 */
import type { Sql } from "postgres";
import { connect, saveBarsPage } from "../supabase/functions/_shared/db.ts";
import type { BarRow } from "../supabase/functions/_shared/alpaca/types.ts";
import { claimOneRun, syntheticBars } from "./lib/bars.ts";
import type { FigureContext, FigureResult } from "./lib/context.ts";
import { metric } from "./lib/metrics.ts";
import { elapsedMs, fmt, now } from "./lib/stats.ts";

const PAGE = 10_000;
const COLUMNS = "symbol, timeframe, ts, open, high, low, close, volume, trade_count, vwap";

async function emptyBars(sql: Sql): Promise<void> {
  await sql`truncate public.bars`;
  await sql`checkpoint`.catch(() => {}); // needs superuser; keeps WAL flushes from one round out of the next
}

/** The workers' path, page by page, with the product's own connection settings. */
async function viaSaveBarsPage(sql: Sql, bars: BarRow[], runName: string): Promise<number> {
  const claim = await claimOneRun(sql, runName);
  const t = now();
  for (let i = 0; i < bars.length; i += PAGE) {
    const page = bars.slice(i, i + PAGE);
    const next = i + PAGE < bars.length ? `token-${i + PAGE}` : null;
    await saveBarsPage(sql, claim, "1Min", page, next, 300);
  }
  return bars.length / (elapsedMs(t) / 1000);
}

function copyLine(b: BarRow): string {
  return `${b.symbol}\t${b.timeframe}\t${b.ts}\t${b.open}\t${b.high}\t${b.low}\t${b.close}\t${b.volume}\t${b.trade_count}\t${b.vwap}\n`;
}

/** COPY FROM STDIN, text format, formatted from the same rows (serialisation is part of the cost). */
async function viaCopy(sql: Sql, bars: BarRow[]): Promise<number> {
  const t = now();
  await copyRows(sql, bars);
  return bars.length / (elapsedMs(t) / 1000);
}

/** One COPY statement per page: the unit the workers store (each page commits with its checkpoint). */
async function viaCopyPerPage(sql: Sql, bars: BarRow[]): Promise<number> {
  const t = now();
  for (let i = 0; i < bars.length; i += PAGE) await copyRows(sql, bars.slice(i, i + PAGE));
  return bars.length / (elapsedMs(t) / 1000);
}

export async function copyRows(sql: Sql, bars: readonly BarRow[]): Promise<void> {
  const stream = await sql.unsafe(`copy public.bars (${COLUMNS}) from stdin`).writable();
  await new Promise<void>((resolve, reject) => {
    stream.on("error", reject);
    stream.on("finish", resolve);
    let i = 0;
    const pump = () => {
      while (i < bars.length) {
        let chunk = "";
        const end = Math.min(bars.length, i + 1000);
        for (; i < end; i++) chunk += copyLine(bars[i]!);
        if (!stream.write(chunk)) return void stream.once("drain", pump);
      }
      stream.end();
    };
    pump();
  });
}

/** What a hand-written script does: one INSERT per bar, each its own transaction (for `seconds`, at most all bars). */
async function viaRowInserts(sql: Sql, bars: BarRow[], seconds: number): Promise<number> {
  const t = now();
  let n = 0;
  for (const b of bars) {
    if (elapsedMs(t) > seconds * 1000) break;
    n++;
    await sql`insert into public.bars (symbol, timeframe, ts, open, high, low, close, volume, trade_count, vwap)
              values (${b.symbol}, ${b.timeframe}, ${b.ts}, ${b.open}, ${b.high}, ${b.low}, ${b.close},
                      ${b.volume}, ${b.trade_count}, ${b.vwap})
              on conflict (symbol, timeframe, ts) do nothing`;
  }
  return n / (elapsedMs(t) / 1000);
}

export async function ingest(ctx: FigureContext): Promise<FigureResult> {
  const rounds = ctx.quick ? 2 : 5;
  const n = ctx.quick ? 30_000 : 50_000;
  const rowSeconds = ctx.quick ? 1.5 : 3;
  const bars = syntheticBars(n, { symbols: 50 });
  const db = await ctx.pg.createDatabase("ingest");
  const product = connect(db.url, 1);
  const plain = db.connect(1);
  const ours: number[] = [], copyPage: number[] = [], copy: number[] = [], rows: number[] = [];
  try {
    // Warm-up: plans, catalog caches and the connection, outside the measurement.
    await viaSaveBarsPage(product, bars.slice(0, PAGE), "WARM_A");
    await viaCopy(plain, syntheticBars(PAGE, { offset: 10_000_000 }));
    await viaRowInserts(plain, syntheticBars(200, { offset: 20_000_000 }), 0.5);
    for (let r = 0; r < rounds; r++) {
      // Rotate the order each round so no method always runs first after the truncate.
      const steps: Array<() => Promise<void>> = [
        async () => { await emptyBars(plain); ours.push(await viaSaveBarsPage(product, bars, `INGEST_${r}`)); },
        async () => { await emptyBars(plain); copyPage.push(await viaCopyPerPage(plain, bars)); },
        async () => { await emptyBars(plain); copy.push(await viaCopy(plain, bars)); },
        async () => { await emptyBars(plain); rows.push(await viaRowInserts(plain, bars, rowSeconds)); },
      ];
      for (let k = 0; k < steps.length; k++) await steps[(k + r) % steps.length]!();
      ctx.log(`  round ${r + 1}/${rounds}: save_bars_page ${fmt(ours.at(-1))}/s, COPY per page ${fmt(copyPage.at(-1))}/s, ` +
        `one COPY ${fmt(copy.at(-1))}/s, ` +
        `row INSERTs ${fmt(rows.at(-1))}/s`);
    }
  } finally {
    await product.end({ timeout: 5 });
    await db.drop();
  }
  const sizes = `${n.toLocaleString("en-US")} new bars per round for save_bars_page and COPY (${n / PAGE} pages), ` +
    `row INSERTs for ${rowSeconds} s; emptied table each time; ${rounds} rounds interleaved`;
  return {
    metrics: [
      metric({
        figure: 3, name: "ingest: save_bars_page vs COPY per page", unit: "bars/s", values: ours,
        baselineName: "COPY per 10,000-bar page", baselineValues: copyPage,
        target: { on: "ratio", op: ">=", x: 0.6, text: "≥ 0.6× COPY" }, note: sizes,
      }),
      metric({
        figure: 3, name: "ingest: save_bars_page vs one COPY of all rows", unit: "bars/s", values: ours,
        baselineName: "one streamed COPY", baselineValues: copy,
      }),
      metric({
        figure: 3, name: "ingest: save_bars_page vs row INSERTs", unit: "bars/s", values: ours,
        baselineName: "INSERT per row", baselineValues: rows,
      }),
    ],
    details: { bars_per_round: n, row_insert_seconds_per_round: rowSeconds, rounds },
  };
}
