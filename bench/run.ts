/**
 * `npm run bench [-- --quick] [-- --only queue,ingest]`: measures each of the
 * eight performance figures side by side with its baseline in the same run,
 * prints a table of medians and ratios, and writes bench/results/latest.json.
 * Never part of `npm test`.
 */
import { mkdir, writeFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { apiEfficiency } from "./api-efficiency.ts";
import { edgeBudget } from "./edge-budget.ts";
import { ingest } from "./ingest.ts";
import { plans } from "./plans.ts";
import { queue } from "./queue.ts";
import { scale } from "./scale.ts";
import { throughput } from "./throughput.ts";
import { universeFigure } from "./universe.ts";
import { parseArgs, type FigureName } from "./lib/args.ts";
import type { Figure, FigureContext } from "./lib/context.ts";
import { startBenchPostgres } from "./lib/db.ts";
import { machineInfo } from "./lib/machine.ts";
import { formatTable, type Metric } from "./lib/metrics.ts";

const FIGURE_FNS: Record<FigureName, Figure> = {
  "api-efficiency": apiEfficiency,
  throughput,
  ingest,
  queue,
  "edge-budget": edgeBudget,
  scale,
  plans,
  universe: universeFigure,
};

const RESULTS = fileURLToPath(new URL("./results/", import.meta.url));

function log(line: string): void {
  process.stderr.write(`${line}\n`);
}

async function main(): Promise<number> {
  let args;
  try {
    args = parseArgs(process.argv.slice(2));
  } catch (err) {
    log((err as Error).message);
    return 2;
  }
  const started = Date.now();
  log(`bench: ${args.quick ? "quick" : "full"} run of ${args.only.join(", ")}`);
  const pg = await startBenchPostgres(log);
  // Ctrl-C: drop the bench databases and stop an embedded server before leaving.
  process.once("SIGINT", () => {
    log("interrupted: cleaning up");
    void pg.stop().finally(() => process.exit(130));
  });
  const metrics: Metric[] = [];
  const details: Record<string, unknown> = {};
  const errors: Record<string, string> = {};
  const timings: Record<string, number> = {};
  const machine = machineInfo(pg);
  try {
    const ctx: FigureContext = { pg, quick: args.quick, log };
    for (const name of args.only) {
      const t = Date.now();
      log(`\n== ${name} ==`);
      try {
        const result = await FIGURE_FNS[name](ctx);
        metrics.push(...result.metrics);
        if (result.details) details[name] = result.details;
      } catch (err) {
        errors[name] = (err as Error).stack ?? String(err);
        log(`${name} failed: ${(err as Error).stack ?? String(err)}`);
      }
      timings[name] = Math.round((Date.now() - t) / 100) / 10;
      log(`   (${timings[name]} s)`);
    }
  } finally {
    await pg.stop();
  }
  const totalS = Math.round((Date.now() - started) / 100) / 10;
  metrics.sort((a, b) => a.figure - b.figure);
  const report = {
    generated_at: new Date().toISOString(),
    mode: args.quick ? "quick" : "full",
    figures: args.only,
    runtime_seconds: { total: totalS, ...timings },
    machine,
    metrics,
    details,
    ...(Object.keys(errors).length ? { errors } : {}),
  };
  await mkdir(RESULTS, { recursive: true });
  await writeFile(`${RESULTS}latest.json`, `${JSON.stringify(report, null, 2)}\n`);
  console.log(`\n${formatTable(metrics)}\n`);
  for (const m of metrics) if (m.note) console.log(`[${m.figure}] ${m.name}: ${m.note}`);
  console.log(`\n${args.quick ? "quick" : "full"} run: ${totalS} s; wrote bench/results/latest.json`);
  if (Object.keys(errors).length) console.log(`figures that failed: ${Object.keys(errors).join(", ")}`);
  return Object.keys(errors).length ? 1 : 0;
}

process.exitCode = await main();
