/** Gateway configuration, read once from the environment; every problem is reported at once. */
import { REPO_ROOT } from "../../lib/local-host.ts";
import { envFlag, parseVerifyJwt } from "../platform.ts";
import { type EdgeLimits, parseEdgeLimits } from "../supervision.ts";

/** Deno 2.1.4, the Deno the Edge Runtime (v1.74) is built on: package.json's `deno-edge`. */
const DEFAULT_ISOLATE_DENO = "node_modules/deno-edge/deno";

export interface GatewayConfig {
  hostname: string;
  port: number;
  functionsDir: string;
  /** Supabase config.toml read for `[functions.<name>] verify_jwt`; may not exist. */
  configToml: string;
  limits: EdgeLimits;
  /** The Deno binary every isolate runs on (EDGE_DENO_BIN). */
  isolateDeno: string;
  bootTimeoutMs: number;
  shutdownTimeoutMs: number;
  /** Global switch (GATEWAY_VERIFY_KEY); when false no function is checked. */
  verifyKey: boolean;
  /** Per-function override from config.toml; absent = verify. */
  verifyByFunction: Map<string, boolean>;
  acceptedKeys: string[];
}

function resolvePath(p: string): string {
  return p.startsWith("/") ? p : `${REPO_ROOT}/${p}`.replace(/\/\.\//g, "/");
}

function dirname(p: string): string {
  const i = p.replace(/\/+$/, "").lastIndexOf("/");
  return i <= 0 ? "/" : p.slice(0, i);
}

function intVar(env: Deno.Env, name: string, fallback: number, min: number, max: number, errors: string[]): number {
  const raw = env.get(name);
  if (raw === undefined || raw.trim() === "") return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) {
    errors.push(`${name} must be an integer in [${min}, ${max}], got ${JSON.stringify(raw)}`);
    return fallback;
  }
  return n;
}

function secretKeysFromJson(raw: string | undefined, errors: string[]): string[] {
  if (!raw) return [];
  try {
    const parsed: unknown = JSON.parse(raw);
    if (parsed && typeof parsed === "object" && !Array.isArray(parsed)) {
      return Object.values(parsed).filter((v): v is string => typeof v === "string" && v.length > 0);
    }
  } catch {
    // fall through
  }
  errors.push('SUPABASE_SECRET_KEYS must be a JSON object such as {"default":"sb_secret_..."}');
  return [];
}

export function loadConfig(env: Deno.Env = Deno.env): GatewayConfig {
  const errors: string[] = [];
  const hostname = env.get("FUNCTIONS_HOST")?.trim() || "127.0.0.1";
  const port = intVar(env, "FUNCTIONS_PORT", 54321, 0, 65535, errors);
  const functionsDir = resolvePath(env.get("FUNCTIONS_DIR")?.trim() || "supabase/functions");
  const configToml = resolvePath(env.get("FUNCTIONS_CONFIG")?.trim() || `${dirname(functionsDir)}/config.toml`);
  const limits = parseEdgeLimits((name) => env.get(name), errors);
  const isolateDeno = resolvePath(env.get("EDGE_DENO_BIN")?.trim() || DEFAULT_ISOLATE_DENO);
  const bootTimeoutMs = intVar(env, "FUNCTIONS_BOOT_TIMEOUT_MS", 30_000, 1, 600_000, errors);
  const shutdownTimeoutMs = intVar(env, "GATEWAY_SHUTDOWN_TIMEOUT_MS", 10_000, 0, 600_000, errors);

  let verifyKey = true;
  try {
    verifyKey = envFlag(env.get("GATEWAY_VERIFY_KEY"), true);
  } catch (e) {
    errors.push(`GATEWAY_VERIFY_KEY: ${(e as Error).message}`);
  }

  const acceptedKeys = [
    env.get("SUPABASE_SERVICE_ROLE_KEY"),
    env.get("SUPABASE_SECRET_KEY"),
    ...secretKeysFromJson(env.get("SUPABASE_SECRET_KEYS"), errors),
  ].filter((k): k is string => typeof k === "string" && k.trim().length > 0).map((k) => k.trim());

  let verifyByFunction = new Map<string, boolean>();
  try {
    verifyByFunction = parseVerifyJwt(Deno.readTextFileSync(configToml));
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) errors.push(`cannot read ${configToml}: ${(e as Error).message}`);
  }

  // Fail closed: with verification on and no key, every request would be refused.
  if (verifyKey && acceptedKeys.length === 0) {
    errors.push(
      "SUPABASE_SERVICE_ROLE_KEY (or SUPABASE_SECRET_KEY / SUPABASE_SECRET_KEYS) is required " +
        "unless GATEWAY_VERIFY_KEY=false",
    );
  }
  try {
    if (!Deno.statSync(isolateDeno).isFile) errors.push(`EDGE_DENO_BIN ${isolateDeno} is not a file`);
  } catch {
    errors.push(
      `the isolates' Deno (2.1.4) is missing at ${isolateDeno}: run npm install ` +
        "(package deno-edge, linux-x64-glibc only) or set EDGE_DENO_BIN",
    );
  }
  try {
    if (!Deno.statSync(functionsDir).isDirectory) errors.push(`FUNCTIONS_DIR ${functionsDir} is not a directory`);
  } catch {
    errors.push(`FUNCTIONS_DIR ${functionsDir} does not exist`);
  }

  if (errors.length > 0) {
    throw new Error(`invalid functions gateway configuration:\n  - ${errors.join("\n  - ")}`);
  }
  return {
    hostname,
    port,
    functionsDir,
    configToml,
    limits,
    isolateDeno,
    bootTimeoutMs,
    shutdownTimeoutMs,
    verifyKey,
    verifyByFunction,
    acceptedKeys,
  };
}

export function shouldVerify(config: GatewayConfig, fn: string): boolean {
  return config.verifyKey && (config.verifyByFunction.get(fn) ?? true);
}
