/**
 * The gateway's own life: graceful shutdown (beforeunload to every isolate,
 * in-flight work finishes within GATEWAY_SHUTDOWN_TIMEOUT_MS), isolates that
 * never outlive it, and configuration errors reported all at once.
 */
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startFunctionsGateway } from "../../../scripts/gateway/spawn.ts";
import { alive, FIXTURES, KEY, logLines, sleep, start, tempDir, waitFor } from "./helpers.ts";

let tmp: Awaited<ReturnType<typeof tempDir>>;
beforeAll(async () => {
  tmp = await tempDir();
});
afterAll(async () => {
  await tmp.remove();
});

describe("functions gateway lifecycle", () => {
  it("finishes in-flight requests and waitUntil work on SIGTERM, then exits 0", async () => {
    const gw = await start();
    const marker = join(tmp.path, "sigterm-waituntil");
    const pending = fetch(`${gw.url}/functions/v1/echo?delay=400&marker=${encodeURIComponent(marker)}`, {
      method: "POST",
      headers: { apikey: KEY },
    });
    await sleep(150);
    gw.kill("SIGTERM");
    const res = await pending;
    expect(res.status).toBe(200);
    expect(await gw.exited).toEqual({ code: 0, signal: null });
    expect(existsSync(marker)).toBe(true); // the background write finished before exit
    expect(gw.logs().some((l) => l.includes('"msg":"gateway stopped"') && l.includes('"clean":true'))).toBe(true);
    // The runtime's termination: beforeunload first, then the isolate ends once idle.
    expect(logLines(gw, "beforeunload dispatched")).toContainEqual(
      expect.objectContaining({ fn: "echo", reason: "termination" }),
    );
    expect(logLines(gw, "isolate shutdown")).toContainEqual(
      expect.objectContaining({ fn: "echo", reason: "TerminationRequested", requests: 1 }),
    );
    await expect(fetch(`${gw.url}/_internal/health`)).rejects.toThrow();
  });

  it("kills isolates still busy when GATEWAY_SHUTDOWN_TIMEOUT_MS has passed", async () => {
    const gw = await start({ GATEWAY_SHUTDOWN_TIMEOUT_MS: "500" });
    const marker = join(tmp.path, "sigterm-linger");
    const res = await fetch(`${gw.url}/functions/v1/linger?marker=${encodeURIComponent(marker)}`, {
      method: "POST",
      headers: { apikey: KEY },
    });
    expect(res.status).toBe(202);
    const { pid } = await res.json();
    gw.kill("SIGTERM");
    expect(await gw.exited).toEqual({ code: 0, signal: null });
    expect(alive(pid)).toBe(false);
    expect(await readFile(marker, "utf8")).toBe("beforeunload:termination\n");
    expect(gw.logs().some((l) => l.includes('"msg":"gateway stopped"') && l.includes('"clean":false'))).toBe(true);
    expect(logLines(gw, "isolate shutdown")).toContainEqual(
      expect.objectContaining({ fn: "linger", pid, reason: "TerminationRequested" }),
    );
  });

  it("starts again on the same port after SIGKILL, and its isolates do not outlive it", async () => {
    const first = await start();
    const { pid } = await (await fetch(`${first.url}/functions/v1/echo`, { headers: { apikey: KEY } })).json();
    expect(alive(pid)).toBe(true);
    first.kill("SIGKILL");
    expect((await first.exited).signal).toBe("SIGKILL");
    expect(await waitFor(() => !alive(pid), 5000)).toBe(true);
    // Also: GATEWAY_VERIFY_KEY=false serves without a key.
    const second = await start({ GATEWAY_VERIFY_KEY: "false" }, first.port);
    try {
      expect(second.port).toBe(first.port);
      const res = await fetch(`${second.url}/functions/v1/echo`);
      expect(res.status).toBe(200);
    } finally {
      await second.stop();
    }
    expect((await second.exited).code).toBe(0);
  });

  it("refuses to start without a key while verification is on, naming the variable", async () => {
    await expect(
      startFunctionsGateway({ port: 0, functionsDir: FIXTURES, env: { FUNCTIONS_WALL_CLOCK_MS: "soon" } }),
    ).rejects.toThrow(
      /SUPABASE_SERVICE_ROLE_KEY[\s\S]*FUNCTIONS_WALL_CLOCK_MS|FUNCTIONS_WALL_CLOCK_MS[\s\S]*SUPABASE_SERVICE_ROLE_KEY/,
    );
  });

  it("reports every bad isolate limit at once", async () => {
    const failure = start({
      EDGE_WALL_CLOCK_MS: "0",
      EDGE_CPU_SOFT_MS: "3000",
      EDGE_CPU_HARD_MS: "2000",
      EDGE_MEMORY_MB: "lots",
      EDGE_BEFOREUNLOAD_RATIO: "1.5",
    });
    const message = await failure.then(() => "", (e: Error) => e.message);
    for (const name of ["EDGE_WALL_CLOCK_MS", "EDGE_CPU_SOFT_MS (3000) must not exceed", "EDGE_MEMORY_MB", "EDGE_BEFOREUNLOAD_RATIO"]) {
      expect(message).toContain(name);
    }
  });
});
