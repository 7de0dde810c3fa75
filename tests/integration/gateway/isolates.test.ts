/**
 * How the gateway places functions in isolates: each function in Deno 2.1.4
 * processes of its own, one isolate taking concurrent requests, an isolate
 * that dies replaced on the next request, however often.
 */
import { execFileSync } from "node:child_process";
import { resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { REPO_ROOT } from "../../../scripts/lib/local-host.ts";
import type { FunctionsGateway } from "../../../scripts/gateway/spawn.ts";
import { alive, caller, logLines, shutdownOf, start, waitFor } from "./helpers.ts";

describe("functions gateway isolates", () => {
  let gw: FunctionsGateway;
  const call = caller(() => gw);
  const json = async (path: string) => {
    const res = await call(path);
    expect(res.status, path).toBe(200);
    return await res.json();
  };

  beforeAll(async () => {
    gw = await start();
  });
  afterAll(async () => {
    await gw?.stop();
  });

  it("runs each function in its own Deno 2.1.4 process, apart from the gateway and from each other", async () => {
    const echo = await json("/functions/v1/echo");
    const burn = await json("/functions/v1/burn");
    expect(echo.deno).toBe("2.1.4");
    expect(echo.pid).not.toBe(gw.process.pid);
    expect(burn.pid).not.toBe(echo.pid);
    // Shared modules are evaluated once per isolate: functions no longer share their state.
    expect(burn.module).not.toBe(echo.module);
    // A warm isolate keeps its module state between requests.
    const again = await json("/functions/v1/echo");
    expect(again).toMatchObject({ pid: echo.pid, module: echo.module, served: echo.served + 1 });
  });

  it("serves concurrent requests from one isolate while it is not retired", async () => {
    const replies = await Promise.all([1, 2, 3, 4].map(() => json("/functions/v1/echo?delay=300")));
    expect(new Set(replies.map((r) => r.pid)).size).toBe(1);
    const echo = (await gw.stats()).functions.find((f) => f.name === "echo")!;
    expect(echo.isolates).toEqual({ active: 1, retired: 0 });
  });

  it("replaces an isolate killed from outside on the next request, as often as it happens", async () => {
    const seen = new Set<number>();
    for (let i = 0; i < 4; i++) {
      const { pid } = await json("/functions/v1/echo");
      expect(seen.has(pid)).toBe(false);
      seen.add(pid);
      process.kill(pid, "SIGKILL");
      expect((await shutdownOf(gw, pid)).reason).toBe("Crashed");
      expect(alive(pid)).toBe(false);
    }
    const { pid } = await json("/functions/v1/echo");
    expect(seen.has(pid)).toBe(false);
    expect(gw.process.exitCode).toBeNull();
    const echo = (await gw.stats()).functions.find((f) => f.name === "echo")!;
    expect(echo.tally.shutdown.Crashed).toBe(4);
  });

  it("fails an API that Deno 2.9 has and Deno 2.1.4 (the Edge Runtime's) lacks", async () => {
    const tooling = execFileSync(resolve(REPO_ROOT, "node_modules/.bin/deno"), [
      "eval",
      "console.log(typeof Uint8Array.fromBase64)",
    ], { encoding: "utf8" });
    expect(tooling.trim()).toBe("function");
    const res = await call("/functions/v1/modern-api");
    expect(res.status).toBe(500);
    expect((await res.json()).code).toBe("WORKER_ERROR");
    expect(await waitFor(() => logLines(gw, "uncaught exception in function").some((l) =>
      l.fn === "modern-api" && String(l.error).includes("fromBase64 is not a function")
    ), 2000)).toBe(true);
  });

  it("reports isolate counts and the tally on /_internal/health", async () => {
    const health = await gw.stats();
    expect(health).toMatchObject({
      status: "ok",
      isolate_runtime: "deno 2.1.4",
      limits: { wall_clock_ms: 150_000, cpu_soft_ms: 1000, cpu_hard_ms: 2000, memory_mb: 256, beforeunload_ratio: 0.9 },
    });
    const byName = new Map(health.functions.map((f) => [f.name, f]));
    expect(byName.get("opts")).toMatchObject({ status: "not_started", isolates: { active: 0, retired: 0 } });
    expect(byName.get("echo")).toMatchObject({ status: "ready", isolates: { active: 1, retired: 0 } });
    const started = health.functions.reduce((n, f) => n + f.tally.started, 0);
    expect(health.isolates.started).toBe(started);
    expect(health.isolates.running).toBe(health.functions.reduce((n, f) => n + f.isolates.active + f.isolates.retired, 0));
  });
});
