import { describe, expect, it } from "vitest";
import {
  checkKey,
  envFlag,
  errorResponse,
  ERRORS,
  parseVerifyJwt,
  routeOf,
} from "../../scripts/gateway/platform.ts";
import { constantTimeEqual } from "../../supabase/functions/_shared/auth.ts";

describe("gateway platform rules", () => {
  it("routes /functions/v1/<name>/... and strips the prefix", () => {
    expect(routeOf("/functions/v1/echo")).toEqual({ kind: "function", name: "echo", functionPath: "/echo" });
    expect(routeOf("/functions/v1/echo/a/b")).toEqual({ kind: "function", name: "echo", functionPath: "/echo/a/b" });
    expect(routeOf("/functions/v1/")).toEqual({ kind: "function", name: "", functionPath: "/" });
    expect(routeOf("/functions/v1")).toEqual({ kind: "none" });
    expect(routeOf("/rest/v1/x")).toEqual({ kind: "none" });
    expect(routeOf("/_internal/health")).toEqual({ kind: "health" });
    expect(routeOf("/functions/v1/_internal/health")).toEqual({ kind: "health" });
  });

  it("compares keys in full", () => {
    expect(constantTimeEqual("abc", "abc")).toBe(true);
    expect(constantTimeEqual("abc", "abd")).toBe(false);
    expect(constantTimeEqual("abc", "abcd")).toBe(false);
    expect(constantTimeEqual("", "")).toBe(true);
    expect(constantTimeEqual("é", "e")).toBe(false);
  });

  it("accepts the key in apikey or Authorization: Bearer", () => {
    const keys = ["k1", "k2"];
    expect(checkKey(new Headers({ apikey: "k1" }), keys)).toBeNull();
    expect(checkKey(new Headers({ authorization: "Bearer k2" }), keys)).toBeNull();
    expect(checkKey(new Headers({ authorization: "bearer  k2 " }), keys)).toBeNull();
    expect(checkKey(new Headers({ apikey: "nope", authorization: "Bearer k1" }), keys)).toBeNull();
    expect(checkKey(new Headers(), keys)).toBe(ERRORS.noAuthHeader);
    expect(checkKey(new Headers({ authorization: "Basic k1" }), keys)).toBe(ERRORS.noAuthHeader);
    expect(checkKey(new Headers({ apikey: "k3" }), keys)).toBe(ERRORS.invalidJwtFormat);
    expect(checkKey(new Headers({ authorization: "Bearer a.b.c" }), keys)).toBe(ERRORS.invalidJwt);
    expect(checkKey(new Headers({ apikey: "k1" }), [])).toBe(ERRORS.invalidJwtFormat);
  });

  it("reads verify_jwt per function from config.toml", () => {
    const toml = [
      "[api]",
      "verify_jwt = false # not a function",
      "[functions.orchestrator]",
      "verify_jwt = false",
      '[functions."fetch-bars"]',
      "  verify_jwt = true  # comment",
      "[functions.fetch-bars-batch]",
      "import_map = './x'",
    ].join("\n");
    expect([...parseVerifyJwt(toml)]).toEqual([
      ["orchestrator", false],
      ["fetch-bars", true],
    ]);
  });

  it("parses boolean env flags strictly", () => {
    expect(envFlag(undefined, true)).toBe(true);
    expect(envFlag("", false)).toBe(false);
    expect(envFlag("false", true)).toBe(false);
    expect(envFlag("OFF", true)).toBe(false);
    expect(envFlag("1", false)).toBe(true);
    expect(() => envFlag("maybe", true)).toThrow(/boolean/);
  });

  it("shapes errors like the platform, with sb-error-code", async () => {
    const res = errorResponse(ERRORS.workerLimit);
    expect(res.status).toBe(546);
    expect(res.headers.get("sb-error-code")).toBe("WORKER_LIMIT");
    expect(await res.json()).toEqual({
      code: "WORKER_LIMIT",
      message: "Worker failed to respond due to a resource limit (please check logs)",
    });
  });
});
