/**
 * `npm run jobs -- <command>`: the operator's CLI for the backfill queue.
 * Exit codes: 0 success, 1 runtime failure, 2 usage error (see jobs/cli-errors.ts).
 */
import { Command } from "commander";
import { registerCalendar } from "./jobs/calendar.ts";
import { registerCancel } from "./jobs/cancel.ts";
import { registerCatchUp } from "./jobs/catch-up.ts";
import { reportError } from "./jobs/cli-errors.ts";
import { registerCreate } from "./jobs/create.ts";
import { registerExtend } from "./jobs/extend.ts";
import { registerGaps } from "./jobs/gaps.ts";
import { registerErrors } from "./jobs/recent-errors.ts";
import { registerReport } from "./jobs/report.ts";
import { registerRetry } from "./jobs/retry.ts";
import { registerStatus } from "./jobs/status.ts";
import { registerTick } from "./jobs/tick.ts";

function buildProgram(): Command {
  const program = new Command("jobs")
    .description("Plan, watch and steer the Alpaca bars backfill queue (Postgres: --db-url or $DATABASE_URL)")
    .exitOverride()
    .showHelpAfterError("(run with --help for usage)");
  // Subcommands created by .command() inherit exitOverride, so every usage error reaches reportError.
  registerCreate(program);
  registerExtend(program);
  registerCatchUp(program);
  registerStatus(program);
  registerErrors(program);
  registerCancel(program);
  registerRetry(program);
  registerTick(program);
  registerGaps(program);
  registerCalendar(program);
  registerReport(program);
  program.addHelpText("after", `
Examples:
  npm run jobs -- create --kind batch --name US_BATCH_2 --symbols TMUS,TSLA,UNH --from 2024-03-04 --to 2024-03-09
  npm run jobs -- create --kind batch --prefix SP500 --symbols-file sp500.txt --from 2024-01-02 --to 2024-02-01
  npm run jobs -- create --kind batch --name LIVE --symbols AAPL,MSFT --from 2024-03-04 --follow
  npm run jobs -- extend --id 3 --from 2024-01-02
  npm run jobs -- catch-up --until 2024-03-08T23:00:00-05:00
  npm run jobs -- status
  npm run jobs -- cancel --kind single --yes
  npm run jobs -- tick --max-runs 10
  npm run jobs -- gaps --id 1 --flagged-only
  npm run jobs -- create --kind batch --universe --exchange NYSE,NASDAQ --prefix US --from 2024-03-04 --to 2024-03-09 --dry-run
  npm run jobs -- calendar refresh --from 2024-01-01 --to 2025-01-01
  npm run jobs -- report --all --out report.html`);
  return program;
}

try {
  await buildProgram().parseAsync(process.argv);
} catch (err) {
  // exitCode rather than exit(): stdout to a pipe is flushed asynchronously.
  process.exitCode = reportError(err, (line) => console.error(line));
}
