/**
 * The functions gateway, run for real against the fixture functions in
 * tests/fixtures/functions (config: tests/fixtures/config.toml): routing,
 * key check, error shapes and the function-facing runtime. Each function
 * runs in isolates of its own (see isolates.test.ts and limits.test.ts).
 * Longer than most files: the gateway's request rules share one running gateway.
 */
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { FunctionsGateway } from "../../../scripts/gateway/spawn.ts";
import { caller, KEY, SECRET_KEY, sleep, start, tempDir, waitFor } from "./helpers.ts";

const WALL_CLOCK_MS = 1500;

let tmp: Awaited<ReturnType<typeof tempDir>>;
beforeAll(async () => {
  tmp = await tempDir();
});
afterAll(async () => {
  await tmp.remove();
});

describe("functions gateway", () => {
  let gw: FunctionsGateway;
  const call = caller(() => gw);

  beforeAll(async () => {
    // The old name of EDGE_WALL_CLOCK_MS, still accepted.
    gw = await start({ FUNCTIONS_WALL_CLOCK_MS: String(WALL_CLOCK_MS) });
  });
  afterAll(async () => {
    await gw?.stop();
  });

  it("routes /functions/v1/<name> and hands the function /<name>/... with method, query and body", async () => {
    const res = await call("/functions/v1/echo/sub/path?x=1", { method: "POST", body: "hello" });
    expect(res.status).toBe(200);
    const body = await res.json();
    expect(body).toMatchObject({
      method: "POST",
      path: "/echo/sub/path",
      search: "?x=1",
      body: "hello",
      hasEdgeRuntime: true,
      supabaseUrl: gw.url,
    });
    expect(gw.url).toBe(`http://127.0.0.1:${gw.port}`);

    const put = await call("/functions/v1/echo", { method: "PUT", body: "{}" });
    expect(await put.json()).toMatchObject({ method: "PUT", path: "/echo", search: "" });
  });

  it("supports every Deno.serve call form and export default { fetch }", async () => {
    expect(await (await call("/functions/v1/opts")).json()).toEqual({
      form: "options+handler",
      listened: true,
      path: "/opts",
    });
    expect(await (await call("/functions/v1/handler-obj")).json()).toEqual({
      form: "handler-object",
      addr: "tcp",
      hasFinished: true,
    });
    expect(await (await call("/functions/v1/default-fetch", { method: "DELETE" })).json()).toEqual({
      form: "default-fetch",
      method: "DELETE",
    });
  });

  it("answers 404 JSON for unknown names, _-prefixed directories and other paths", async () => {
    for (const path of ["/functions/v1/nope", "/functions/v1/_shared", "/functions/v1/", "/rest/v1/bars"]) {
      const res = await call(path);
      expect(res.status, path).toBe(404);
      expect(res.headers.get("sb-error-code")).toBe("NOT_FOUND");
      expect(res.headers.get("content-type")).toBe("application/json");
      expect((await res.json()).code).toBe("NOT_FOUND");
    }
    const res = await call("/functions/v1/nope", {}, null);
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({ code: "NOT_FOUND", message: "Function not found" });
  });

  it("answers 405 for methods the platform does not forward", async () => {
    for (const method of ["HEAD", "PROPFIND"]) {
      const res = await call("/functions/v1/echo", { method });
      expect(res.status, method).toBe(405);
      expect(res.headers.get("sb-error-code")).toBe("METHOD_NOT_ALLOWED");
      expect(res.headers.get("allow")).toContain("POST");
    }
  });

  it("requires the service key (apikey or Bearer) and answers 401 JSON otherwise", async () => {
    const noKey = await call("/functions/v1/echo", { method: "POST" }, null);
    expect(noKey.status).toBe(401);
    expect(noKey.headers.get("sb-error-code")).toBe("UNAUTHORIZED_NO_AUTH_HEADER");
    expect(await noKey.json()).toEqual({
      code: "UNAUTHORIZED_NO_AUTH_HEADER",
      message: "Missing authorization header",
    });

    const badHeaders: Record<string, string>[] = [{ apikey: "wrong" }, { authorization: "Bearer a.b.c" }, {
      apikey: KEY.slice(0, -1),
    }];
    for (const headers of badHeaders) {
      const res = await call("/functions/v1/echo", { headers }, null);
      expect(res.status).toBe(401);
      const body = await res.json();
      expect(body.code).toMatch(/^UNAUTHORIZED/);
      expect(res.headers.get("sb-error-code")).toBe(body.code);
      expect(typeof body.message).toBe("string");
    }

    expect((await call("/functions/v1/echo", { headers: { authorization: `Bearer ${KEY}` } }, null)).status).toBe(200);
    expect((await call("/functions/v1/echo", {}, SECRET_KEY)).status).toBe(200);
    // OPTIONS (CORS preflight) passes without a key, as on the platform.
    const options = await call("/functions/v1/echo", { method: "OPTIONS" }, null);
    expect(options.status).toBe(200);
    expect((await options.json()).method).toBe("OPTIONS");
    // verify_jwt = false in config.toml turns the check off for that function only.
    expect(await (await call("/functions/v1/public", {}, null)).json()).toEqual({ public: true, auth: false });
  });

  it("answers 500 WORKER_ERROR when the handler throws", async () => {
    const res = await call("/functions/v1/boom", { method: "POST" });
    expect(res.status).toBe(500);
    expect(res.headers.get("sb-error-code")).toBe("WORKER_ERROR");
    expect(await res.json()).toEqual({
      code: "WORKER_ERROR",
      message: "Function exited due to an error (please check logs)",
    });
  });

  it("answers 546 WORKER_LIMIT when the wall clock ends the isolate, after beforeunload (wall_clock)", async () => {
    const marker = join(tmp.path, "slow-beforeunload");
    const started = Date.now();
    const res = await call(`/functions/v1/slow?marker=${encodeURIComponent(marker)}`, { method: "POST" });
    const elapsed = Date.now() - started;
    expect(res.status).toBe(546);
    expect(res.headers.get("sb-error-code")).toBe("WORKER_LIMIT");
    expect(await res.json()).toEqual({
      code: "WORKER_LIMIT",
      message: "Worker failed to respond due to a resource limit (please check logs)",
    });
    // The isolate started with this request: its wall clock is the request's.
    expect(elapsed).toBeGreaterThanOrEqual(WALL_CLOCK_MS - 50);
    expect(await readFile(marker, "utf8")).toBe("beforeunload:wall_clock\n");
    const slow = (await gw.stats()).functions.find((f) => f.name === "slow")!;
    expect(slow.tally.shutdown).toEqual({ WallClockTime: 1 });
  });

  it("answers 503 BOOT_ERROR for a function whose import fails, and serves the others", async () => {
    const res = await call("/functions/v1/broken");
    expect(res.status).toBe(503);
    expect(res.headers.get("sb-error-code")).toBe("BOOT_ERROR");
    expect(await res.json()).toEqual({ code: "BOOT_ERROR", message: "Worker failed to boot (please check logs)" });
    expect((await call("/functions/v1/echo")).status).toBe(200);

    const health = await fetch(`${gw.url}/_internal/health`);
    expect(health.status).toBe(200);
    const { status, functions } = await health.json();
    expect(status).toBe("ok");
    expect(functions).toContainEqual(expect.objectContaining({ name: "echo", status: "ready" }));
    expect(functions).toContainEqual(expect.objectContaining({ name: "broken", status: "boot_error" }));
    expect(functions.map((f: { name: string }) => f.name)).not.toContain("_shared");
  });

  it("runs EdgeRuntime.waitUntil work to completion after the response", async () => {
    const marker = join(tmp.path, "echo-waituntil");
    const res = await call(`/functions/v1/echo?marker=${encodeURIComponent(marker)}`, { method: "POST" });
    expect(res.status).toBe(200);
    await res.json();
    expect(existsSync(marker)).toBe(false); // written 300 ms after the response
    expect(await waitFor(() => existsSync(marker), 3000)).toBe(true);
    expect(await readFile(marker, "utf8")).toBe("done");
  });

  it("survives failing background work, stray rejections and throwing timers", async () => {
    expect((await call("/functions/v1/reject")).status).toBe(200);
    await sleep(100);
    expect((await call("/functions/v1/echo")).status).toBe(200);
    const errors = gw.logs().filter((l) => l.includes('"level":"error"'));
    expect(errors.some((l) => l.includes("background task failed") && l.includes('"fn":"reject"'))).toBe(true);
    expect(errors.some((l) => l.includes("unhandled promise rejection") && l.includes('"fn":"reject"'))).toBe(true);
    expect(errors.some((l) => l.includes("uncaught exception") && l.includes('"fn":"reject"'))).toBe(true);
  });

  it("logs one JSON line per request, without headers or keys", async () => {
    await call("/functions/v1/echo?tag=logline", { method: "PATCH" });
    const requests = gw.logs()
      .filter((l) => l.startsWith("{") && l.includes('"msg":"request"'))
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(requests).toContainEqual(
      expect.objectContaining({ fn: "echo", method: "PATCH", status: 200, duration_ms: expect.any(Number) }),
    );
    expect(requests).toContainEqual(expect.objectContaining({ fn: "boom", status: 500, error_code: "WORKER_ERROR" }));
    for (const line of gw.logs()) {
      expect(line).not.toContain(KEY);
      expect(line).not.toContain(SECRET_KEY);
      expect(line.toLowerCase()).not.toContain("apikey");
    }
  });
});
