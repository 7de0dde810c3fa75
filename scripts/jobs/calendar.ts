/**
 * `jobs calendar refresh|show`: fill the cached trading calendar from
 * Alpaca's `GET /v2/calendar` for a range, or print what the cache holds.
 */
import type { Command } from "commander";
import { z } from "zod";
import { formatDay, nyDayOf } from "../lib/market-calendar/index.ts";
import { addTradingOption, type TradingOptions, tradingClient } from "./alpaca-trading.ts";
import { loadCalendar, refreshCalendar } from "./calendar-cache.ts";
import { addDbOption, type DbOptions, requireDbUrl, withDb } from "./db.ts";
import { Instant, parseFlags } from "./flags.ts";
import { formatInstant, printJson, renderTable } from "./format.ts";

interface CalendarOptions extends DbOptions, TradingOptions {
  from?: string;
  to?: string;
  json?: boolean;
}

const RangeFlags = z.object({ from: Instant, to: Instant }).superRefine((f, ctx) => {
  if (f.to <= f.from) ctx.addIssue({ code: "custom", path: ["to"], message: "must be after --from (the end is exclusive)" });
});

/** The New York days [first, last] that the range [from, to) touches. */
export function daysOfRange(from: Date, to: Date): { firstDay: number; lastDay: number } {
  return { firstDay: nyDayOf(from.getTime()), lastDay: nyDayOf(to.getTime() - 1) };
}

function withRange(cmd: Command): Command {
  return addDbOption(cmd
    .requiredOption("--from <date>", "first day: YYYY-MM-DD (New York) or ISO-8601")
    .requiredOption("--to <date>", "end, exclusive: YYYY-MM-DD (New York) or ISO-8601")
    .option("--json", "print the result as JSON"));
}

export function registerCalendar(program: Command): void {
  const calendar = program.command("calendar").description("the cached trading calendar (Alpaca's GET /v2/calendar)");
  addTradingOption(withRange(calendar.command("refresh").description("fetch the range from Alpaca and replace it in the cache")))
    .action(async (opts: CalendarOptions) => {
      const f = parseFlags(RangeFlags, opts);
      const range = daysOfRange(f.from, f.to);
      const client = tradingClient(opts);
      const result = await withDb(requireDbUrl(opts), (sql) => refreshCalendar(sql, client, range.firstDay, range.lastDay));
      if (opts.json) return printJson(result);
      console.log(`calendar ${result.firstDay} .. ${result.lastDay}: ${result.alpaca + result.rules} session(s) cached ` +
        `(${result.alpaca} from Alpaca, ${result.rules} by rule where Alpaca has none)`);
    });
  withRange(calendar.command("show").description("sessions per New York day, and where each answer comes from"))
    .action(async (opts: CalendarOptions) => {
      const f = parseFlags(RangeFlags, opts);
      const { firstDay, lastDay } = daysOfRange(f.from, f.to);
      const view = await withDb(requireDbUrl(opts), (sql) => loadCalendar(sql, firstDay, lastDay));
      const rows = [];
      for (let n = firstDay; n <= lastDay; n++) {
        const s = view.sessionOf(n);
        rows.push({
          day: formatDay(n),
          session: !s ? "closed" : s.halfDay ? "half" : "full",
          regular: s ? `${formatInstant(new Date(s.regularOpen))} - ${formatInstant(new Date(s.regularClose))}` : "",
          extended: s ? `${formatInstant(new Date(s.extendedOpen))} - ${formatInstant(new Date(s.extendedClose))}` : "",
          source: view.sourceOf(n),
        });
      }
      if (opts.json) return printJson(rows);
      console.log(renderTable(rows, [
        { header: "day", value: (r) => r.day },
        { header: "session", value: (r) => r.session },
        { header: "regular (UTC)", value: (r) => r.regular },
        { header: "extended (UTC)", value: (r) => r.extended },
        { header: "source", value: (r) => r.source },
      ]));
    });
}
