/**
 * The Deno functions gateway, run for real against the fixture functions in
 * tests/fixtures/functions (config: tests/fixtures/config.toml).
 */
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type FunctionsGateway, startFunctionsGateway } from "../../../scripts/gateway/spawn.ts";

const FIXTURES = "tests/fixtures/functions";
const KEY = "test-service-role-key-0123456789";
const SECRET_KEY = "sb_secret_test_abcdef";
const WALL_CLOCK_MS = 1500;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function waitFor(check: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (check()) return true;
    await sleep(25);
  }
  return check();
}

function start(env: Record<string, string> = {}, port = 0): Promise<FunctionsGateway> {
  return startFunctionsGateway({
    port,
    functionsDir: FIXTURES,
    env: { SUPABASE_SERVICE_ROLE_KEY: KEY, SUPABASE_SECRET_KEY: SECRET_KEY, ...env },
  });
}

let tmp: string;
beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), "gateway-test-"));
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

describe("functions gateway", () => {
  let gw: FunctionsGateway;
  const call = (path: string, init: RequestInit = {}, key: string | null = KEY) => {
    const headers = new Headers(init.headers);
    if (key !== null && !headers.has("authorization")) headers.set("apikey", key);
    return fetch(`${gw.url}${path}`, { ...init, headers });
  };

  beforeAll(async () => {
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

  it("answers 546 WORKER_LIMIT at the wall-clock limit and aborts the function's request signal", async () => {
    const marker = join(tmp, "slow-aborted");
    const started = Date.now();
    const res = await call(`/functions/v1/slow?marker=${encodeURIComponent(marker)}`, { method: "POST" });
    const elapsed = Date.now() - started;
    expect(res.status).toBe(546);
    expect(res.headers.get("sb-error-code")).toBe("WORKER_LIMIT");
    expect(await res.json()).toEqual({
      code: "WORKER_LIMIT",
      message: "Worker failed to respond due to a resource limit (please check logs)",
    });
    expect(elapsed).toBeGreaterThanOrEqual(WALL_CLOCK_MS - 50);
    expect(elapsed).toBeLessThan(WALL_CLOCK_MS + 2000);
    expect(await waitFor(() => existsSync(marker), 2000)).toBe(true);
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
    expect(functions).toContainEqual({ name: "echo", status: "ready" });
    expect(functions).toContainEqual(expect.objectContaining({ name: "broken", status: "boot_error" }));
    expect(functions.map((f: { name: string }) => f.name)).not.toContain("_shared");
  });

  it("runs EdgeRuntime.waitUntil work to completion after the response", async () => {
    const marker = join(tmp, "echo-waituntil");
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

describe("functions gateway lifecycle", () => {
  it("finishes in-flight requests and waitUntil work on SIGTERM, then exits 0", async () => {
    const gw = await start();
    const marker = join(tmp, "sigterm-waituntil");
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
    await expect(fetch(`${gw.url}/_internal/health`)).rejects.toThrow();
  });

  it("starts again on the same port after SIGKILL", async () => {
    const first = await start();
    first.kill("SIGKILL");
    expect((await first.exited).signal).toBe("SIGKILL");
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
});
