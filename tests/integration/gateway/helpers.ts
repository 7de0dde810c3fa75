/** Shared by the gateway's integration tests: starting it on the fixtures, calling it, reading its logs. */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type FunctionsGateway, startFunctionsGateway } from "../../../scripts/gateway/spawn.ts";

export const FIXTURES = "tests/fixtures/functions";
export const KEY = "test-service-role-key-0123456789";
export const SECRET_KEY = "sb_secret_test_abcdef";

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export async function waitFor(check: () => boolean | Promise<boolean>, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return true;
    await sleep(25);
  }
  return await check();
}

export function start(env: Record<string, string> = {}, port = 0): Promise<FunctionsGateway> {
  return startFunctionsGateway({
    port,
    functionsDir: FIXTURES,
    env: { SUPABASE_SERVICE_ROLE_KEY: KEY, SUPABASE_SECRET_KEY: SECRET_KEY, ...env },
  });
}

/** fetch against the gateway, with the service key in `apikey` unless `key` is null or an Authorization header is given. */
export function caller(gw: () => FunctionsGateway) {
  return (path: string, init: RequestInit = {}, key: string | null = KEY) => {
    const headers = new Headers(init.headers);
    if (key !== null && !headers.has("authorization")) headers.set("apikey", key);
    return fetch(`${gw().url}${path}`, { ...init, headers });
  };
}

export type LogLine = Record<string, unknown>;

/** The gateway's JSON log lines whose `msg` starts with `msg`. */
export function logLines(gw: FunctionsGateway, msg: string): LogLine[] {
  return gw.logs()
    .filter((l) => l.startsWith("{"))
    .map((l) => JSON.parse(l) as LogLine)
    .filter((l) => typeof l.msg === "string" && l.msg.startsWith(msg));
}

/** The one shutdown line of the isolate with this pid, once it is logged. */
export async function shutdownOf(gw: FunctionsGateway, pid: number, timeoutMs = 10_000): Promise<LogLine> {
  let found: LogLine | undefined;
  await waitFor(() => (found = logLines(gw, "isolate shutdown").find((l) => l.pid === pid)) !== undefined, timeoutMs);
  if (!found) throw new Error(`no shutdown logged for isolate pid ${pid}`);
  return found;
}

/** True while a process with this pid exists. */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

export async function tempDir(): Promise<{ path: string; remove: () => Promise<void> }> {
  const path = await mkdtemp(join(tmpdir(), "gateway-test-"));
  return { path, remove: () => rm(path, { recursive: true, force: true }) };
}
