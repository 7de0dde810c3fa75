import { describe, expect, it } from "vitest";
import { useTestDb } from "../../helpers/db.ts";
import type { BarRow } from "../../../supabase/functions/_shared/alpaca/types.ts";
import { LEASE_LOST_SQLSTATE, LeaseLostError, saveBarsPage } from "../../../supabase/functions/_shared/db.ts";
import { claim, expireLease, queueRuns, runRow, WORKER_A, WORKER_B } from "../../helpers/fixtures.ts";

const db = useTestDb({ truncateBeforeEach: ["public.job_definitions", "public.bars"] });

function page(n: number, symbol = "AAPL", from = Date.UTC(2024, 0, 2, 14, 30), price = 100) {
  const ts = Array.from({ length: n }, (_, i) => new Date(from + i * 60_000));
  const num = (v: number) => Array.from({ length: n }, (_, i) => v + i / 100);
  return { symbol: Array(n).fill(symbol), ts, open: num(price), high: num(price + 1), low: num(price - 1),
    close: num(price), volume: Array(n).fill(1000), trade_count: Array(n).fill(10), vwap: num(price) };
}

async function save(runId: string, worker: string, attempt: number, token: string | null, p: ReturnType<typeof page>) {
  const [{ rows }] = await db.sql`
    select public.save_bars_page(${runId}, ${worker}, ${attempt}, ${token}, '1Min',
      ${p.symbol}::text[], ${p.ts.map((d) => d.toISOString())}::timestamptz[], ${p.open}::float8[], ${p.high}::float8[], ${p.low}::float8[],
      ${p.close}::float8[], ${p.volume}::int8[], ${p.trade_count}::int8[], ${p.vwap}::float8[]) as rows`;
  return Number(rows);
}

describe("save_bars_page", () => {
  it("stores a page and its checkpoint together; saving the same page again changes nothing", async () => {
    await queueRuns(db.sql, { runs: 1 });
    const [run] = await claim(db.sql, WORKER_A);
    expect(await save(run!.run_id, WORKER_A, 1, "next-1", page(500))).toBe(500);
    const snapshot = await db.sql`select * from public.bars order by symbol, ts`;
    expect(snapshot.length).toBe(500);
    await save(run!.run_id, WORKER_A, 1, "next-1", page(500));
    expect(await db.sql`select * from public.bars order by symbol, ts`).toEqual(snapshot);
    expect(await runRow(db.sql, run!.run_id)).toMatchObject({ page_token: "next-1" });
  });

  it("updates a bar whose values changed (a corrected page)", async () => {
    await queueRuns(db.sql, { runs: 1 });
    const [run] = await claim(db.sql, WORKER_A);
    await save(run!.run_id, WORKER_A, 1, null, page(3, "MSFT", Date.UTC(2024, 0, 2, 15), 100));
    await save(run!.run_id, WORKER_A, 1, null, page(3, "MSFT", Date.UTC(2024, 0, 2, 15), 200));
    const rows = await db.sql`select open from public.bars where symbol = 'MSFT' order by ts`;
    expect(rows.map((r) => r.open)).toEqual([200, 200.01, 200.02]);
  });

  it("a worker that lost its lease writes no bars and no checkpoint", async () => {
    await queueRuns(db.sql, { runs: 1 });
    const [run] = await claim(db.sql, WORKER_A);
    await expireLease(db.sql, run!.run_id);
    await db.sql`select public.requeue_expired_job_runs()`;
    await claim(db.sql, WORKER_B);
    await expect(save(run!.run_id, WORKER_A, 1, "stale", page(10))).rejects.toThrow(/no longer held/);
    const [{ n }] = await db.sql`select count(*)::int as n from public.bars`;
    expect(n).toBe(0);
    expect((await runRow(db.sql, run!.run_id)).page_token).toBeNull();
  });
});

/** The same page as saveBarsPage takes it. */
function barRows(p: ReturnType<typeof page>): BarRow[] {
  return p.symbol.map((symbol, i) => ({
    symbol, timeframe: "1Min", ts: p.ts[i]!.toISOString(), open: p.open[i]!, high: p.high[i]!, low: p.low[i]!,
    close: p.close[i]!, volume: p.volume[i]!, trade_count: p.trade_count[i]!, vwap: p.vwap[i]!,
  }));
}

describe("lease lost: SQLSTATE JRLL1 and LeaseLostError", () => {
  it("a lost lease raises the project's own SQLSTATE, which saveBarsPage maps to LeaseLostError", async () => {
    await queueRuns(db.sql, { runs: 1 });
    const [run] = await claim(db.sql, WORKER_A);
    await expireLease(db.sql, run!.run_id);
    await db.sql`select public.requeue_expired_job_runs()`;
    await claim(db.sql, WORKER_B);

    expect(LEASE_LOST_SQLSTATE).toBe("JRLL1");
    const raw = await save(run!.run_id, WORKER_A, 1, "stale", page(1)).catch((e: unknown) => e);
    expect(raw).toMatchObject({ code: "JRLL1", hint: "lease_lost" });

    const stale = { runId: run!.run_id, worker: WORKER_A, attempt: 1 };
    const err = await saveBarsPage(db.sql, stale, "1Min", barRows(page(1)), "stale", 60).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LeaseLostError);
    expect((err as Error).message).toMatch(/no longer held/);
    expect((err as Error).cause).toMatchObject({ code: "JRLL1" });
    const [{ n }] = await db.sql`select count(*)::int as n from public.bars`;
    expect(n).toBe(0);
  });

  it("saveBarsPage passes every other error through unchanged, a P0002 included", async () => {
    await queueRuns(db.sql, { runs: 1 });
    const [run] = await claim(db.sql, WORKER_A);
    const held = { runId: run!.run_id, worker: WORKER_A, attempt: 1 };

    // A constraint violation while the lease is held: no timeframe for the bars.
    const notNull = await saveBarsPage(db.sql, held, null as never, barRows(page(1)), "next", 60).catch((e: unknown) => e);
    expect(notNull).not.toBeInstanceOf(LeaseLostError);
    expect(notNull).toMatchObject({ name: "PostgresError", code: "23502" });

    // PL/pgSQL's generic no_data_found, raised from a trigger in this file's own database.
    await db.sql.unsafe(`
      create function public.test_raise_no_data_found() returns trigger language plpgsql as $$
      begin raise exception 'no data found (test trigger)' using errcode = 'P0002'; end $$;
      create trigger test_raise_no_data_found before insert on public.bars
        for each statement execute function public.test_raise_no_data_found();`);
    try {
      const p0002 = await saveBarsPage(db.sql, held, "1Min", barRows(page(1)), "next", 60).catch((e: unknown) => e);
      expect(p0002).not.toBeInstanceOf(LeaseLostError);
      expect(p0002).toMatchObject({ name: "PostgresError", code: "P0002", message: "no data found (test trigger)" });
    } finally {
      await db.sql.unsafe(`
        drop trigger test_raise_no_data_found on public.bars;
        drop function public.test_raise_no_data_found();`);
    }
    expect(await runRow(db.sql, run!.run_id)).toMatchObject({ status: "running", page_token: null });
  });
});

describe("saveBarsPage: new bars take a plain INSERT, a page with stored bars the upsert", () => {
  it("a page that overlaps stored bars in part stores the new ones, updates the changed ones and checkpoints once", async () => {
    await queueRuns(db.sql, { runs: 1 });
    const [run] = await claim(db.sql, WORKER_A);
    const held = { runId: run!.run_id, worker: WORKER_A, attempt: 1 };
    const from = Date.UTC(2024, 0, 2, 14, 30);
    const first = barRows(page(4, "NVDA", from, 100));
    expect(await saveBarsPage(db.sql, held, "1Min", first, "p1", 60)).toBe(4);
    // Bars 2..5: two already stored (one of them corrected), three new.
    const second = barRows(page(6, "NVDA", from + 2 * 60_000, 100.02));
    second[1] = { ...second[1]!, close: 999 };
    expect(await saveBarsPage(db.sql, held, "1Min", second, "p2", 60)).toBe(6);
    const rows = await db.sql<{ open: number; close: number }[]>`
      select open, close from public.bars where symbol = 'NVDA' order by ts`;
    expect(rows.map((r) => r.close)).toEqual([...first.slice(0, 2), ...second].map((b) => b.close));
    expect(rows[3]!.close).toBe(999);
    expect(await runRow(db.sql, run!.run_id)).toMatchObject({ page_token: "p2", pages_fetched: 2, rows_written: "10" });
  });

  it("two writers of the same new page on concurrent connections both succeed and store it once", async () => {
    await queueRuns(db.sql, { runs: 2 });
    const [a] = await claim(db.sql, WORKER_A);
    const [b] = await claim(db.sql, WORKER_B);
    const bars = barRows(page(2_000, "AMD"));
    const [ca, cb] = [db.connect(1), db.connect(1)];
    const results = await Promise.all([
      saveBarsPage(ca, { runId: a!.run_id, worker: WORKER_A, attempt: 1 }, "1Min", bars, "a1", 60),
      saveBarsPage(cb, { runId: b!.run_id, worker: WORKER_B, attempt: 1 }, "1Min", bars, "b1", 60),
    ]);
    expect(results).toEqual([2_000, 2_000]);
    const [{ n }] = await db.sql`select count(*)::int as n from public.bars where symbol = 'AMD'`;
    expect(n).toBe(2_000);
  });
});

describe("take_rate_token", () => {
  it("grants the bucket's capacity at once, then asks the caller to wait", async () => {
    const waits: number[] = [];
    for (let i = 0; i < 12; i++) {
      const [{ wait }] = await db.sql`select public.take_rate_token('test-bucket', 6, 10) as wait`;
      waits.push(wait);
    }
    expect(waits.slice(0, 10).every((w) => w === 0)).toBe(true);
    // 6 per minute: the next token is up to 10 s away.
    expect(waits.slice(10).every((w) => w > 0 && w <= 10_000)).toBe(true);
  });

  it("shares one budget between concurrent connections", async () => {
    const conns = Array.from({ length: 4 }, () => db.connect(1));
    const granted = await Promise.all(
      conns.map(async (c) => {
        let ok = 0;
        for (let i = 0; i < 20; i++) {
          const [{ wait }] = await c`select public.take_rate_token('shared', 6, 30) as wait`;
          if (wait === 0) ok++;
        }
        return ok;
      }),
    );
    // 30 tokens, refilling at 0.1/s: across 80 attempts only the capacity is granted.
    expect(granted.reduce((a, b) => a + b, 0)).toBe(30);
  });
});
