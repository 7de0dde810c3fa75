/**
 * The orchestrator's tick with fake dependencies: how much it claims, how it
 * routes, and what it records when a row cannot be read or a worker cannot be
 * reached. The HTTP face (method, key, body) is tested here too.
 */
import { describe, expect, it } from "vitest";
import type { WorkerFunction } from "../../supabase/functions/_shared/kinds.ts";
import type { Slice } from "../../supabase/functions/_shared/slice.ts";
import { handle, tick, type OrchestratorDeps } from "../../supabase/functions/orchestrator/handler.ts";
import { claimedRow, fakeQueue, memoryLogger, type FakeQueue } from "../helpers/fakes.ts";

const KEY = "service-key-for-tests";

function deps(queue: FakeQueue, over: Partial<OrchestratorDeps> = {}) {
  const invoked: Array<{ fn: WorkerFunction; slice: Slice }> = [];
  const log = memoryLogger();
  const d: OrchestratorDeps = {
    queue,
    log,
    serviceKeys: [KEY],
    leaseSeconds: 180,
    maxRunsPerTick: 30,
    maxInFlight: 20,
    dispatchConcurrency: 4,
    invoke: (fn, slice) => {
      invoked.push({ fn, slice });
      return Promise.resolve();
    },
    newWorkerId: () => "orchestrator:t1",
    redact: (t) => t.replaceAll(KEY, "[REDACTED]"),
    ...over,
  };
  return { d, invoked, log };
}

const rows = () => [
  claimedRow({ run_id: "1" }),
  claimedRow({ run_id: "2", kind: "single", name: "BRK.B", symbols: ["BRK.B"] }),
  claimedRow({ run_id: "3", symbols: ["AAPL"] }),
];

describe("tick", () => {
  it("routes each claimed run by its kind alone and counts per kind", async () => {
    const queue = fakeQueue({ claimable: rows(), expired: 2, running: 1 });
    const { d, invoked } = deps(queue);
    const counts = await tick(d, 30);
    expect(invoked.map((i) => [i.fn, i.slice.runId])).toEqual([
      ["fetch-bars-batch", "1"], ["fetch-bars", "2"], ["fetch-bars-batch", "3"],
    ]);
    expect(invoked[1]!.slice).toMatchObject({ kind: "single", symbol: "BRK.B", worker: "orchestrator:t1" });
    expect(counts).toEqual({
      requeued: 2, in_flight: 1, claimed: 3, single: 1, batch: 2, dispatched: 3, failed: 0, worker: "orchestrator:t1",
    });
    expect(queue.calls).toEqual([]);
  });

  it("claims only the room left under the in-flight cap, and nothing when it is full", async () => {
    const queue = fakeQueue({ claimable: rows(), running: 18 });
    await tick(deps(queue).d, 30);
    expect(queue.claimedWith).toEqual({ worker: "orchestrator:t1", limit: 2, leaseSeconds: 180 });

    const full = fakeQueue({ claimable: rows(), running: 20 });
    const counts = await tick(deps(full).d, 30);
    expect(full.claimedWith).toBeUndefined();
    expect(counts).toMatchObject({ claimed: 0, single: 0, batch: 0, in_flight: 20 });

    const small = fakeQueue({ claimable: rows() });
    await tick(deps(small).d, 1);
    expect(small.claimedWith?.limit).toBe(1);
  });

  it("fails an unparseable row for good with the field at fault, and routes it nowhere", async () => {
    const queue = fakeQueue({ claimable: [claimedRow({ run_id: "9", symbols: ["AAPL", "US_BATCH_2"] })] });
    const { d, invoked, log } = deps(queue);
    const counts = await tick(d, 30);
    expect(invoked).toEqual([]);
    expect(queue.calls).toEqual([expect.objectContaining({
      op: "fail", kind: "permanent", claim: { runId: "9", worker: "orchestrator:t1", attempt: 1 },
      message: expect.stringMatching(/^cannot parse claimed run: symbols\.1: must be a ticker/),
    })]);
    expect(counts).toMatchObject({ claimed: 1, batch: 1, dispatched: 0, failed: 1 });
    expect(log.lines).toContainEqual(expect.objectContaining({ level: "error", outcome: "unparseable", run_id: "9" }));
  });

  it("fails an unknown kind for good instead of guessing a route", async () => {
    const queue = fakeQueue({ claimable: [claimedRow({ kind: "multi" })] });
    const { d, invoked } = deps(queue);
    const counts = await tick(d, 30);
    expect(invoked).toEqual([]);
    expect(queue.calls).toEqual([expect.objectContaining({ op: "fail", kind: "permanent", message: expect.stringMatching(/kind/) })]);
    expect(counts).toMatchObject({ claimed: 1, single: 0, batch: 0, failed: 1 });
  });

  it("records a dispatch failure as retryable against the route, with secrets masked, and goes on with the rest", async () => {
    const queue = fakeQueue({ claimable: rows() });
    const { d, invoked, log } = deps(queue, {
      invoke: (fn, slice) => {
        if (slice.runId === "2") return Promise.reject(new Error(`HTTP 503 from gateway (key ${KEY})`));
        invoked.push({ fn, slice });
        return Promise.resolve();
      },
    });
    const counts = await tick(d, 30);
    expect(invoked.map((i) => i.slice.runId)).toEqual(["1", "3"]);
    expect(queue.calls).toEqual([{
      op: "fail", kind: "retryable", claim: { runId: "2", worker: "orchestrator:t1", attempt: 1 },
      message: "dispatch to fetch-bars failed: HTTP 503 from gateway (key [REDACTED])", opts: { handledBy: "fetch-bars" },
    }]);
    expect(counts).toMatchObject({ dispatched: 2, failed: 1 });
    expect(JSON.stringify(log.lines)).not.toContain(KEY);
  });

  it("dispatches at most dispatchConcurrency at once", async () => {
    const many = Array.from({ length: 10 }, (_, i) => claimedRow({ run_id: String(i + 1) }));
    let active = 0;
    let peak = 0;
    const { d } = deps(fakeQueue({ claimable: many }), {
      dispatchConcurrency: 3,
      invoke: async () => {
        peak = Math.max(peak, ++active);
        await new Promise((r) => setTimeout(r, 5));
        active--;
      },
    });
    expect((await tick(d, 30)).dispatched).toBe(10);
    expect(peak).toBe(3);
  });
});

describe("the orchestrator's HTTP face", () => {
  const post = (body: string, key: string | null = KEY) =>
    new Request("http://x/orchestrator", { method: "POST", body, headers: key ? { apikey: key } : {} });

  it("refuses other methods, a missing key and a bad body before touching the queue", async () => {
    const queue = fakeQueue({ claimable: rows() });
    const { d } = deps(queue);
    expect((await handle(new Request("http://x/", { method: "GET" }), d)).status).toBe(405);
    expect((await handle(post("{}", null), d)).status).toBe(401);
    expect((await handle(post("{}", "wrong"), d)).status).toBe(401);
    const bad = await handle(post(JSON.stringify({ maxRuns: 0 })), d);
    expect(bad.status).toBe(400);
    expect((await bad.json()).message).toMatch(/^maxRuns:/);
    expect((await handle(post(JSON.stringify({ surprise: 1 })), d)).status).toBe(400);
    expect(queue.claimedWith).toBeUndefined();
  });

  it("ticks with the body's maxRuns, or the configured one for an empty body", async () => {
    const queue = fakeQueue({ claimable: rows() });
    const res = await handle(post(JSON.stringify({ maxRuns: 2, tick: "2024-01-02T00:00:00Z" })), deps(queue).d);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ claimed: 2 });

    const again = fakeQueue({ claimable: rows() });
    await handle(post(""), deps(again, { maxRunsPerTick: 7 }).d);
    expect(again.claimedWith?.limit).toBe(7);
  });
});
