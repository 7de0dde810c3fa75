/**
 * The isolate budget and the slice runner's hand-backs: a slice stops before
 * a page the isolate cannot afford and gives its run back with the
 * checkpoint; beforeunload gives back every run the isolate holds at once.
 */
import { describe, expect, it } from "vitest";
import type { BarPage, BarsQuery } from "../../supabase/functions/_shared/alpaca/types.ts";
import { IsolateBudget } from "../../supabase/functions/_shared/isolate-budget.ts";
import { runSlice, type SliceDeps } from "../../supabase/functions/_shared/run-slice.ts";
import { batchSlice, fakeQueue, memoryLogger, pagesOf, singleSlice, type FakeQueue } from "../helpers/fakes.ts";

function clock(over: { now?: number; cpu?: number | undefined } = {}) {
  const c = { now: over.now ?? 0, cpu: "cpu" in over ? over.cpu : 0 };
  return { c, clock: { startedAt: 0, now: () => c.now, cpuUsedMs: () => c.cpu } };
}

describe("IsolateBudget", () => {
  it("grants no page after three quarters of the wall clock", () => {
    const { c, clock: k } = clock();
    const budget = new IsolateBudget({ wallClockMs: 20_000, cpuMs: 2_000 }, k);
    c.now = 14_999;
    expect(budget.reservePage()).toBeNull();
    c.now = 15_000;
    expect(budget.reservePage()).toMatch(/^isolate wall clock: 15000 ms of 20000 ms used/);
  });

  it("measured CPU: reserves a page's CPU (never below the estimate) for every page in flight, up to 80 % of the limit", () => {
    const { c, clock: k } = clock();
    const budget = new IsolateBudget({ wallClockMs: 150_000, cpuMs: 1_000 }, k, { bootMs: 300, perPageMs: 50, perBarMs: 0 });
    c.cpu = 300;
    for (let i = 0; i < 4; i++) budget.pageStored(1_000);
    c.cpu = 540; // (540 - 300) / 4 = 60 ms a page, above the 50 ms estimate
    expect(budget.reservePage()).toBeNull(); // 540 + 1 x 60 = 600
    expect(budget.reservePage()).toBeNull(); // 540 + 2 x 60 = 660
    expect(budget.reservePage()).toBeNull(); // 720
    expect(budget.reservePage()).toBeNull(); // 780
    expect(budget.reservePage()).toMatch(/^isolate CPU: 540 ms of 1000 ms used with 4 page\(s\) in flight/); // 840 >= 800
    budget.pageAbandoned();
    expect(budget.reservePage()).toBeNull();
  });

  it("estimates CPU from the boot and the bars stored where the runtime cannot measure it", () => {
    const { clock: k } = clock({ cpu: undefined });
    const budget = new IsolateBudget({ wallClockMs: 150_000, cpuMs: 2_000 }, k, { bootMs: 350, perPageMs: 20, perBarMs: 0.01 });
    // A full page costs 20 + 100 = 120 ms: 350 + 120 n + 120 < 1600 while n <= 9.
    for (let n = 0; n <= 9; n++) {
      expect(budget.reservePage()).toBeNull();
      budget.pageStored(10_000);
    }
    expect(budget.reservePage()).toMatch(/^isolate CPU: 1550 ms of 2000 ms used \(estimated\)/);
  });

  it("a slice that arrives shows the runtime kept the isolate: an estimate above its soft limit is corrected down to it", () => {
    const { clock: k } = clock({ cpu: undefined });
    const budget = new IsolateBudget({ wallClockMs: 150_000, cpuMs: 2_000 }, k, { bootMs: 350, perPageMs: 20, perBarMs: 0.01 });
    for (let n = 0; n <= 9; n++) budget.pageStored(10_000);
    expect(budget.reservePage()).toMatch(/^isolate CPU: 1550 ms of 2000 ms used \(estimated\)/);
    budget.sliceArrived(); // 1550 -> the soft limit, 1000: room for 1000 + 120 n < 1600, n <= 4
    let granted = 0;
    while (budget.reservePage() === null) granted++;
    expect(granted).toBe(4);
    // Below the soft limit there is nothing to correct, and measured CPU is never corrected.
    const fresh = new IsolateBudget({ wallClockMs: 150_000, cpuMs: 2_000 }, k, { bootMs: 350, perPageMs: 20, perBarMs: 0.01 });
    fresh.sliceArrived();
    for (let n = 0; n <= 9; n++) {
      expect(fresh.reservePage()).toBeNull();
      fresh.pageStored(10_000);
    }
    expect(fresh.reservePage()).not.toBeNull();
    const m = clock({ cpu: 1_700 });
    const measured = new IsolateBudget({ wallClockMs: 150_000, cpuMs: 2_000 }, m.clock);
    measured.sliceArrived();
    expect(measured.reservePage()).toMatch(/^isolate CPU: 1700 ms of 2000 ms used with/);
  });

  it("reserves what this isolate's pages cost on average: small pages leave room for many more", () => {
    const { clock: k } = clock({ cpu: undefined });
    const budget = new IsolateBudget({ wallClockMs: 150_000, cpuMs: 2_000 }, k, { bootMs: 350, perPageMs: 20, perBarMs: 0.01 });
    expect(budget.reservePage()).toBeNull();
    budget.pageStored(1_000); // 30 ms: 380 used
    let granted = 0;
    while (budget.reservePage() === null) granted++;
    expect(granted).toBe(40); // 380 + 30 (g + 1) < 1600 while g <= 39
  });

  it("hands back every held run once at unload, and none after release", async () => {
    const budget = new IsolateBudget({ wallClockMs: 1_000, cpuMs: 1_000 }, clock().clock);
    const handed: string[] = [];
    budget.hold((r) => Promise.resolve(handed.push(`a:${r}`)));
    const release = budget.hold((r) => Promise.resolve(handed.push(`b:${r}`)));
    release();
    budget.hold(() => Promise.reject(new Error("database gone")));
    await budget.unload("wall_clock");
    await budget.unload("wall_clock");
    expect(handed).toEqual(["a:isolate unloading (wall_clock)"]);
    expect(budget.reservePage()).toBe("isolate unloading (wall_clock)");
  });
});

function deps(queue: FakeQueue, budget: IsolateBudget, pages: SliceDeps["pages"]): SliceDeps {
  return {
    queue, budget, pages, log: memoryLogger(), leaseSeconds: 180, now: () => 0,
    sleep: () => Promise.resolve(), redact: (t) => t,
  };
}

describe("runSlice at an isolate limit", () => {
  it("hands the run back with its checkpoint once the budget says stop, instead of fetching another page", async () => {
    const { c, clock: k } = clock();
    const budget = new IsolateBudget({ wallClockMs: 10_000, cpuMs: 2_000 }, k);
    const queue = fakeQueue();
    const { source, queries } = pagesOf(5);
    let served = 0;
    const counting = async function* (q: BarsQuery): AsyncIterable<BarPage> {
      for await (const p of source(q)) {
        served++;
        if (served === 2) c.now = 8_000; // the isolate ages while page 2 is fetched
        yield p;
      }
    };
    let kicks = 0;
    const outcome = await runSlice(batchSlice(), { ...deps(queue, budget, counting), afterHandBack: () => kicks++ });
    expect(outcome).toBe("handed_back");
    expect(kicks).toBe(1);
    expect(served).toBe(2);
    expect(queries).toHaveLength(1);
    expect(queue.calls.map((x) => x.op)).toEqual(["savePage", "savePage", "handBack"]);
    expect(queue.calls[1]).toMatchObject({ next: "p2", completeAs: null });
    expect(queue.calls[2]).toMatchObject({ reason: expect.stringMatching(/^isolate wall clock/), handledBy: "fetch-bars-batch" });
  });

  it("hands back before the first page when the isolate has no room left", async () => {
    const { clock: k } = clock({ now: 9_000 });
    const queue = fakeQueue();
    const { source, queries } = pagesOf(3);
    expect(await runSlice(singleSlice(), deps(queue, new IsolateBudget({ wallClockMs: 10_000, cpuMs: 2_000 }, k), source)))
      .toBe("handed_back");
    expect(queries).toEqual([]);
    expect(queue.calls).toEqual([expect.objectContaining({ op: "handBack", handledBy: "fetch-bars" })]);
  });

  it("does not hand back after the last page: the run completes", async () => {
    const { c, clock: k } = clock();
    const budget = new IsolateBudget({ wallClockMs: 10_000, cpuMs: 2_000 }, k);
    const queue = fakeQueue();
    const { source } = pagesOf(1);
    const aging = async function* (q: BarsQuery): AsyncIterable<BarPage> {
      for await (const p of source(q)) {
        c.now = 9_999;
        yield p;
      }
    };
    expect(await runSlice(singleSlice(), deps(queue, budget, aging))).toBe("success");
    expect(queue.calls.map((x) => x.op)).toEqual(["savePage"]);
  });

  it("at beforeunload, a slice waiting on Alpaca has its run handed back at once and then writes nothing", async () => {
    const budget = new IsolateBudget({ wallClockMs: 150_000, cpuMs: 2_000 }, clock().clock);
    const queue = fakeQueue();
    let arrive!: () => void;
    const gate = new Promise<void>((r) => (arrive = r));
    const { source } = pagesOf(3);
    const slow = async function* (q: BarsQuery): AsyncIterable<BarPage> {
      let n = 0;
      for await (const p of source(q)) {
        if (n++ === 1) await gate; // the second page is slow to come
        yield p;
      }
    };
    const running = runSlice(batchSlice(), deps(queue, budget, slow));
    await new Promise((r) => setTimeout(r, 10));
    await budget.unload("WallClockTime");
    expect(queue.calls.map((x) => x.op)).toEqual(["savePage", "handBack"]);
    expect(queue.calls[1]).toMatchObject({ reason: "isolate unloading (WallClockTime)" });
    arrive();
    expect(await running).toBe("handed_back");
    expect(queue.calls.map((x) => x.op)).toEqual(["savePage", "handBack"]);
  });

  it("a run handed back meanwhile by someone else is reported as a lost lease", async () => {
    const { clock: k } = clock({ now: 9_000 });
    const queue = fakeQueue({ handBackResult: null });
    expect(await runSlice(singleSlice(), deps(queue, new IsolateBudget({ wallClockMs: 10_000, cpuMs: 2_000 }, k), pagesOf(1).source)))
      .toBe("lease_lost");
  });
});
