/** What the figures were measured on. */
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { cpus, loadavg, platform, release, totalmem } from "node:os";
import { join } from "node:path";
import { REPO_ROOT } from "../../scripts/lib/local-host.ts";
import type { BenchPostgres } from "./db.ts";

function version(pkg: string): string | null {
  try {
    return (JSON.parse(readFileSync(join(REPO_ROOT, "node_modules", pkg, "package.json"), "utf8")) as { version: string }).version;
  } catch {
    return null;
  }
}

function quietly(cmd: string, args: string[]): string | null {
  try {
    return execFileSync(cmd, args, { cwd: REPO_ROOT, encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim();
  } catch {
    return null;
  }
}

export function machineInfo(pg: BenchPostgres): Record<string, unknown> {
  const c = cpus();
  return {
    cpus: c.length,
    cpu_model: c[0]?.model ?? null,
    memory: `${Math.round((totalmem() / 2 ** 30) * 10) / 10} GiB`,
    os: `${platform()} ${release()}`,
    node: process.version,
    deno: quietly(join(REPO_ROOT, "node_modules/.bin/deno"), ["--version"])?.split("\n")[0] ?? null,
    postgres: pg.version.split(",")[0],
    postgres_source: pg.source,
    postgres_settings: pg.settings,
    packages: {
      "graphile-worker": version("graphile-worker"),
      "pg-boss": version("pg-boss"),
      "@alpacahq/alpaca-trade-api": version("@alpacahq/alpaca-trade-api"),
      postgres: version("postgres"),
    },
    git_commit: quietly("git", ["rev-parse", "--short", "HEAD"]),
    load_average_at_start: loadavg().map((x) => Math.round(x * 100) / 100),
  };
}
