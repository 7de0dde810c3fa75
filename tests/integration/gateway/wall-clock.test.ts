/**
 * The isolate's wall clock, counted from its start: retired at half (new
 * requests go to a new isolate while it finishes its work), terminated at
 * the full limit with its background work, `beforeunload` (wall_clock) first.
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { FunctionsGateway } from "../../../scripts/gateway/spawn.ts";
import { caller, logLines, shutdownOf, start, tempDir, waitFor } from "./helpers.ts";

const WALL_CLOCK_MS = 3000;

describe("functions gateway wall clock", () => {
  let gw: FunctionsGateway;
  let tmp: Awaited<ReturnType<typeof tempDir>>;
  const call = caller(() => gw);

  beforeAll(async () => {
    tmp = await tempDir();
    gw = await start({ EDGE_WALL_CLOCK_MS: String(WALL_CLOCK_MS) });
  });
  afterAll(async () => {
    await gw?.stop();
    await tmp?.remove();
  });

  it("terminates an isolate at its wall clock with its background work pending, after beforeunload", async () => {
    const marker = join(tmp.path, "linger");
    const res = await call(`/functions/v1/linger?marker=${encodeURIComponent(marker)}`, { method: "POST" });
    expect(res.status).toBe(202);
    const { pid } = await res.json();
    const shutdown = await shutdownOf(gw, pid);
    expect(shutdown).toMatchObject({ fn: "linger", reason: "WallClockTime" });
    expect(shutdown.age_ms).toBeGreaterThanOrEqual(WALL_CLOCK_MS);
    // Heard once, and the minute of background work never finished.
    expect(await readFile(marker, "utf8")).toBe("beforeunload:wall_clock\n");
    const messages = gw.logs().filter((l) => l.includes(String(shutdown.isolate))).map((l) => JSON.parse(l).msg as string);
    const order = ["wall clock duration warning", "beforeunload dispatched", "wall clock duration reached", "isolate shutdown"];
    const at = order.map((m) => messages.findIndex((msg) => msg.startsWith(m)));
    expect(at.every((i) => i >= 0)).toBe(true);
    expect([...at].sort((a, b) => a - b)).toEqual(at);
  });

  it("retires an isolate at half its wall clock: a new isolate takes new requests while the old one finishes", async () => {
    const slow = call(`/functions/v1/echo?delay=${WALL_CLOCK_MS * 0.7}`);
    const retired = () => logLines(gw, "wall clock duration warning").some((l) => l.fn === "echo");
    expect(await waitFor(retired, WALL_CLOCK_MS)).toBe(true);
    const fresh = await (await call("/functions/v1/echo")).json();
    const old = await slow;
    expect(old.status).toBe(200);
    const oldBody = await old.json();
    expect(fresh.pid).not.toBe(oldBody.pid);
    // Retired and idle: it ends on its own, before its wall clock.
    const shutdown = await shutdownOf(gw, oldBody.pid);
    expect(shutdown).toMatchObject({ reason: "EarlyDrop", requests: 1 });
    expect(shutdown.age_ms).toBeLessThan(WALL_CLOCK_MS);
  });
});
