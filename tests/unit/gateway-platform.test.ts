/**
 * The functions gateway's pure rules: routes, keys, error shapes
 * (platform.ts), the isolate supervisor's verdicts (supervision.ts) and the
 * isolate channel's framing (isolate-protocol.ts). Longer than 200 lines:
 * each rule's cases read best next to the others.
 * Longer than most files: every pure rule of the gateway and its supervisor, one describe each.
 */
import { describe, expect, it } from "vitest";
import {
  checkKey,
  envFlag,
  errorResponse,
  ERRORS,
  parseVerifyJwt,
  routeOf,
} from "../../scripts/gateway/platform.ts";
import { encodeReport, parseOutputLine } from "../../scripts/gateway/isolate-protocol.ts";
import {
  canEarlyDrop,
  DEFAULT_LIMITS,
  type EdgeLimits,
  freshState,
  judge,
  MEMORY_ASK_BUSY_MS,
  MEMORY_ASK_GROWTH_BYTES,
  MEMORY_REPORT_STALE_MS,
  memoryEstimate,
  parseEdgeLimits,
  shouldAskMemory,
} from "../../scripts/gateway/supervision.ts";
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

describe("isolate limits from the environment", () => {
  const parse = (env: Record<string, string>) => {
    const errors: string[] = [];
    return { limits: parseEdgeLimits((name) => env[name], errors), errors };
  };

  it("defaults to the hosted free plan", () => {
    expect(parse({})).toEqual({
      limits: { wallClockMs: 150_000, cpuSoftMs: 1000, cpuHardMs: 2000, memoryMb: 256, beforeunloadRatio: 0.9 },
      errors: [],
    });
  });

  it("reads every variable, with FUNCTIONS_WALL_CLOCK_MS as an alias", () => {
    expect(parse({
      EDGE_WALL_CLOCK_MS: "400000",
      EDGE_CPU_SOFT_MS: "50",
      EDGE_CPU_HARD_MS: "100",
      EDGE_MEMORY_MB: "128",
      EDGE_BEFOREUNLOAD_RATIO: "0.5",
    })).toEqual({
      limits: { wallClockMs: 400_000, cpuSoftMs: 50, cpuHardMs: 100, memoryMb: 128, beforeunloadRatio: 0.5 },
      errors: [],
    });
    expect(parse({ FUNCTIONS_WALL_CLOCK_MS: "1500" }).limits.wallClockMs).toBe(1500);
    expect(parse({ FUNCTIONS_WALL_CLOCK_MS: "1500", EDGE_WALL_CLOCK_MS: "1500" }).errors).toEqual([]);
    expect(parse({ FUNCTIONS_WALL_CLOCK_MS: "1500", EDGE_WALL_CLOCK_MS: "2000" }).errors[0]).toMatch(/disagree/);
  });

  it("reports every problem at once", () => {
    const { errors } = parse({
      EDGE_WALL_CLOCK_MS: "soon",
      EDGE_CPU_SOFT_MS: "3000",
      EDGE_MEMORY_MB: "8",
      EDGE_BEFOREUNLOAD_RATIO: "1",
    });
    expect(errors).toHaveLength(4);
    expect(errors.join("\n")).toMatch(/EDGE_WALL_CLOCK_MS[\s\S]*EDGE_MEMORY_MB[\s\S]*EDGE_BEFOREUNLOAD_RATIO[\s\S]*EDGE_CPU_SOFT_MS \(3000\)/);
  });
});

describe("isolate supervision (per_worker)", () => {
  const limits: EdgeLimits = { wallClockMs: 1000, cpuSoftMs: 100, cpuHardMs: 200, memoryMb: 100, beforeunloadRatio: 0.9 };
  const MB = 1024 * 1024;
  const read = (ageMs: number, cpuMs = 0, memoryMb = 0) => ({ ageMs, cpuMs, memoryBytes: memoryMb * MB });

  it("retires at half the wall clock, warns at the ratio once, terminates at the limit", () => {
    const state = freshState();
    expect(judge(limits, read(499), state)).toEqual([]);
    expect(judge(limits, read(500), state)).toEqual([{ kind: "retire", cause: "wall_clock" }]);
    expect(judge(limits, read(600), state)).toEqual([]);
    expect(judge(limits, read(900), state)).toEqual([{ kind: "beforeunload", reason: "wall_clock" }]);
    expect(judge(limits, read(950), state)).toEqual([]);
    expect(judge(limits, read(1000), state)).toEqual([{ kind: "terminate", reason: "WallClockTime" }]);
    expect(judge(limits, read(1100), state)).toEqual([]);
  });

  it("counts CPU over the isolate's life: retired at the soft limit, beforeunload at the ratio of the hard one, terminated at it", () => {
    const state = freshState();
    expect(judge(limits, read(10, 100), state)).toEqual([{ kind: "retire", cause: "cpu" }]);
    expect(judge(limits, read(20, 180), state)).toEqual([{ kind: "beforeunload", reason: "cpu" }]);
    expect(judge(limits, read(30, 199), state)).toEqual([]);
    expect(judge(limits, read(40, 200), state)).toEqual([{ kind: "terminate", reason: "CPUTime" }]);
    expect(state.retired).toBe("cpu");
  });

  it("raises a memory alert at half the limit (lowered again below it) and terminates at the limit", () => {
    const state = freshState();
    judge(limits, read(10, 0, 50), state);
    expect(state.memoryAlert).toBe(true);
    expect(state.retired).toBeNull();
    judge(limits, read(20, 0, 40), state);
    expect(state.memoryAlert).toBe(false);
    expect(judge(limits, read(30, 0, 90), state)).toEqual([{ kind: "beforeunload", reason: "memory" }]);
    expect(judge(limits, read(40, 0, 100), state)).toEqual([{ kind: "terminate", reason: "Memory" }]);
  });

  it("lets a termination outrank everything else in the same reading", () => {
    const state = freshState();
    expect(judge(limits, read(1000, 500, 500), state)).toEqual([{ kind: "terminate", reason: "WallClockTime" }]);
    expect(state.warned.size).toBe(0);
  });

  it("drops early only an isolate under an alert with nothing in flight and no background work", () => {
    const state = freshState();
    expect(canEarlyDrop(state, 0, 0)).toBe(false);
    state.retired = "wall_clock";
    expect(canEarlyDrop(state, 1, 0)).toBe(false);
    expect(canEarlyDrop(state, 0, 1)).toBe(false);
    expect(canEarlyDrop(state, 0, 0)).toBe(true);
    const alerted = { ...freshState(), memoryAlert: true };
    expect(canEarlyDrop(alerted, 0, 0)).toBe(true);
    expect(canEarlyDrop({ ...alerted, terminating: "Memory" }, 0, 0)).toBe(false);
  });

  it("judges memory by the isolate's report, and by RSS minus the boot baseline when an asked report is late", () => {
    expect(memoryEstimate({ total: 10 * MB, askedMsAgo: null }, 500 * MB, 60 * MB)).toBe(10 * MB);
    expect(memoryEstimate({ total: 10 * MB, askedMsAgo: MEMORY_REPORT_STALE_MS }, 500 * MB, 60 * MB)).toBe(10 * MB);
    expect(memoryEstimate({ total: 10 * MB, askedMsAgo: MEMORY_REPORT_STALE_MS + 1 }, 500 * MB, 60 * MB)).toBe(440 * MB);
    expect(memoryEstimate({ total: 10 * MB, askedMsAgo: MEMORY_REPORT_STALE_MS + 1 }, 65 * MB, 60 * MB)).toBe(10 * MB);
    expect(DEFAULT_LIMITS.memoryMb).toBe(256);
  });

  it("asks for a memory report when RSS grew or the isolate is busy, never twice at once, never when idle and flat", () => {
    const base = { rssBytes: 80 * MB, reportedRssBytes: 80 * MB, reportAgeMs: 60_000, busy: false, asking: false };
    expect(shouldAskMemory(base)).toBe(false);
    expect(shouldAskMemory({ ...base, rssBytes: 80 * MB + MEMORY_ASK_GROWTH_BYTES })).toBe(true);
    expect(shouldAskMemory({ ...base, rssBytes: 60 * MB })).toBe(false);
    expect(shouldAskMemory({ ...base, busy: true, reportAgeMs: MEMORY_ASK_BUSY_MS - 1 })).toBe(false);
    expect(shouldAskMemory({ ...base, busy: true, reportAgeMs: MEMORY_ASK_BUSY_MS })).toBe(true);
    expect(shouldAskMemory({ ...base, busy: true, asking: true })).toBe(false);
  });
});

describe("isolate reports among a function's output", () => {
  it("finds a report on its own line or after output that did not end its line", () => {
    const report = { t: "tasks" as const, pending: 2 };
    expect(parseOutputLine(encodeReport(report))).toEqual({ output: null, report });
    expect(parseOutputLine(`partial${encodeReport(report)}`)).toEqual({ output: "partial", report });
    expect(parseOutputLine('{"level":"info"}')).toEqual({ output: '{"level":"info"}', report: null });
  });
});
