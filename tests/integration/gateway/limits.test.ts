/**
 * The isolate supervisor's CPU and memory limits, made small so that each
 * case takes a moment: CPU counted over the isolate's life (retired at the
 * soft limit, terminated at the hard one), memory terminated at the limit.
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { FunctionsGateway } from "../../../scripts/gateway/spawn.ts";
import { caller, logLines, shutdownOf, start, tempDir, waitFor } from "./helpers.ts";

const CPU_SOFT_MS = 300;
const CPU_HARD_MS = 600;
const MEMORY_MB = 64;

describe("functions gateway CPU and memory limits", () => {
  let gw: FunctionsGateway;
  let tmp: Awaited<ReturnType<typeof tempDir>>;
  const call = caller(() => gw);
  const tallyOf = async (fn: string) => (await gw.stats()).functions.find((f) => f.name === fn)!.tally;

  beforeAll(async () => {
    tmp = await tempDir();
    gw = await start({
      EDGE_CPU_SOFT_MS: String(CPU_SOFT_MS),
      EDGE_CPU_HARD_MS: String(CPU_HARD_MS),
      EDGE_MEMORY_MB: String(MEMORY_MB),
    });
  });
  afterAll(async () => {
    await gw?.stop();
    await tmp?.remove();
  });

  it("terminates an isolate at the CPU hard limit: 546, logged as CPUTime, a fresh isolate next", async () => {
    const res = await call("/functions/v1/burn?cpu=60000");
    expect(res.status).toBe(546);
    expect(res.headers.get("sb-error-code")).toBe("WORKER_LIMIT");
    const [shutdown] = logLines(gw, "isolate shutdown").filter((l) => l.fn === "burn");
    expect(shutdown).toMatchObject({ event_type: "Shutdown", reason: "CPUTime", requests: 1 });
    expect(shutdown!.cpu_time_used).toBeGreaterThanOrEqual(CPU_HARD_MS);
    // Retired at the soft limit on the way.
    const isolate = shutdown!.isolate as string;
    const lines = gw.logs().filter((l) => l.includes(isolate));
    const soft = lines.findIndex((l) => l.includes("CPU time soft limit reached"));
    const hard = lines.findIndex((l) => l.includes("CPU time hard limit reached"));
    expect(soft).toBeGreaterThanOrEqual(0);
    expect(hard).toBeGreaterThan(soft);
    const next = await call("/functions/v1/burn");
    expect(next.status).toBe(200);
    expect((await next.json()).pid).not.toBe(shutdown!.pid);
    expect(await tallyOf("burn")).toMatchObject({ started: 2, retired: 1, shutdown: { CPUTime: 1 } });
  });

  it("retires an isolate at the CPU soft limit: it answers, the next request gets a new isolate, the old one is dropped", async () => {
    const before = await tallyOf("burn");
    const first = await call(`/functions/v1/burn?cpu=${Math.round((CPU_SOFT_MS + CPU_HARD_MS) / 2)}`);
    expect(first.status).toBe(200);
    const { pid } = await first.json();
    expect(await waitFor(async () => (await tallyOf("burn")).retired > before.retired, 2000)).toBe(true);
    const next = await call("/functions/v1/burn");
    expect((await next.json()).pid).not.toBe(pid);
    expect((await shutdownOf(gw, pid)).reason).toBe("EarlyDrop");
  });

  it("terminates an isolate at the memory limit, after beforeunload (memory), logged as Memory", async () => {
    const marker = join(tmp.path, "hog");
    const res = await call(`/functions/v1/hog?marker=${encodeURIComponent(marker)}`);
    expect(res.status).toBe(546);
    const [shutdown] = logLines(gw, "isolate shutdown").filter((l) => l.fn === "hog");
    expect(shutdown).toMatchObject({ reason: "Memory" });
    const used = shutdown!.memory_used as { total: number };
    expect(used.total).toBeGreaterThanOrEqual(MEMORY_MB * 2 ** 20);
    expect(await readFile(marker, "utf8")).toBe("beforeunload:memory\n");
    expect(logLines(gw, "memory limit reached for the worker")).toContainEqual(
      expect.objectContaining({ fn: "hog", isolate: shutdown!.isolate }),
    );
  });

  it("terminates at the memory limit an isolate too busy to report its memory", async () => {
    const res = await call("/functions/v1/hog?sync=1");
    expect(res.status).toBe(546);
    const shutdowns = logLines(gw, "isolate shutdown").filter((l) => l.fn === "hog");
    expect(shutdowns).toHaveLength(2);
    expect(shutdowns[1]).toMatchObject({ reason: "Memory" });
    expect(await tallyOf("hog")).toMatchObject({ started: 2, shutdown: { Memory: 2 } });
  });
});
