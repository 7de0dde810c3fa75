/**
 * The worker functions' HTTP face with fake dependencies: each takes exactly
 * its own kind, refuses everything else before any I/O, and runs the slice in
 * the background when the runtime can keep it alive.
 */
import { describe, expect, it } from "vitest";
import { unlimitedBudget } from "../../supabase/functions/_shared/isolate-budget.ts";
import type { WorkerDeps } from "../../supabase/functions/_shared/worker-handler.ts";
import { handle as fetchBars } from "../../supabase/functions/fetch-bars/handler.ts";
import { handle as fetchBarsBatch } from "../../supabase/functions/fetch-bars-batch/handler.ts";
import { batchSlice, fakeQueue, memoryLogger, pagesOf, singleSlice, type FakeQueue } from "../helpers/fakes.ts";

const KEY = "service-key-for-tests";

function deps(queue: FakeQueue, over: Partial<WorkerDeps> = {}) {
  const pages = pagesOf(2);
  const d: WorkerDeps = {
    queue,
    log: memoryLogger(),
    pages: pages.source,
    budget: unlimitedBudget(),
    leaseSeconds: 180,
    sleep: async () => {},
    now: () => 0,
    redact: (t) => t,
    serviceKeys: [KEY],
    ...over,
  };
  return { d, queries: pages.queries };
}

const post = (body: unknown, key: string | null = KEY) =>
  new Request("http://x/fn", {
    method: "POST",
    body: typeof body === "string" ? body : JSON.stringify(body),
    headers: key ? { authorization: `Bearer ${key}` } : {},
  });

describe("worker handler", () => {
  it("answers 202 at once and hands the slice to waitUntil when the runtime has it", async () => {
    const queue = fakeQueue();
    const background: Promise<unknown>[] = [];
    const { d } = deps(queue, { waitUntil: (p) => void background.push(p) });
    const res = await fetchBarsBatch(post(batchSlice()), d);
    expect(res.status).toBe(202);
    expect(await res.json()).toEqual({ accepted: true, run_id: "41", fn: "fetch-bars-batch" });
    expect(background).toHaveLength(1);
    expect(await background[0]).toBe("success");
    expect(queue.calls.at(-1)).toMatchObject({ op: "savePage", completeAs: "fetch-bars-batch" });
  });

  it("runs inline and answers with the outcome where there is no waitUntil", async () => {
    const { d } = deps(fakeQueue());
    const res = await fetchBars(post(singleSlice()), d);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ accepted: true, run_id: "41", fn: "fetch-bars", outcome: "success" });
  });

  it.each([
    ["a batch sent to fetch-bars", fetchBars, batchSlice(), /kind/],
    ["a single sent to fetch-bars-batch", fetchBarsBatch, singleSlice(), /kind/],
    ["a basket name as a ticker", fetchBars, singleSlice({ symbol: "US_BATCH_1" }), /^symbol: must be a ticker/],
    ["an empty slice", fetchBars, singleSlice({ sliceEnd: "2024-01-02T00:00:00.000Z" }), /^sliceEnd: must be after sliceStart/],
    ["an unknown field", fetchBars, { ...singleSlice(), extra: 1 }, /extra/],
    ["no body", fetchBars, "", /^body: a slice is required/],
    ["broken JSON", fetchBars, "{", /^body: must be valid JSON/],
  ] as const)("refuses %s with 400 naming the field, and does nothing", async (_what, handler, body, message) => {
    const queue = fakeQueue();
    const { d, queries } = deps(queue);
    const res = await handler(post(body), d);
    expect(res.status).toBe(400);
    expect((await res.json()).message).toMatch(message);
    expect(queries).toEqual([]);
    expect(queue.calls).toEqual([]);
  });

  it("refuses other methods and wrong keys before reading the body", async () => {
    const queue = fakeQueue();
    const { d, queries } = deps(queue);
    expect((await fetchBars(new Request("http://x/fn", { method: "PUT", body: "{}" }), d)).status).toBe(405);
    expect((await fetchBars(post(singleSlice(), null), d)).status).toBe(401);
    expect((await fetchBars(post(singleSlice(), "not-the-key"), d)).status).toBe(401);
    expect(queries).toEqual([]);
    expect(queue.calls).toEqual([]);
  });

  it("refuses a body over its size bound with 413", async () => {
    const { d } = deps(fakeQueue());
    const res = await fetchBarsBatch(post({ ...batchSlice(), padding: "x".repeat(300 * 1024) }), d);
    expect(res.status).toBe(413);
  });
});
