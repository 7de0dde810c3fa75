import { describe, expect, it } from "vitest";
import { nextCatchUpAt } from "../../scripts/start/follow.ts";
import { parseOptions } from "../../scripts/start/options.ts";

describe("npm start --follow: the local catch-up's times, as the pg_cron job's '30 1 * * 2-6'", () => {
  it("is 01:30 UTC Tuesday to Saturday, strictly after now", () => {
    const cases: [now: string, next: string][] = [
      ["2024-11-25T12:00:00Z", "2024-11-26T01:30:00Z"], // Monday noon: Monday's session is caught up early Tuesday (UTC)
      ["2024-11-26T01:30:00Z", "2024-11-27T01:30:00Z"], // exactly at a catch-up: the next one
      ["2024-11-30T01:29:59Z", "2024-11-30T01:30:00Z"], // Saturday's, for Friday's session
      ["2024-11-30T02:00:00Z", "2024-12-03T01:30:00Z"], // after it: none on Sunday or Monday (UTC), then Tuesday
    ];
    for (const [now, next] of cases) expect([now, nextCatchUpAt(new Date(now)).toISOString()]).toEqual([now, next.replace("Z", ".000Z")]);
  });

  it("is after 20:15 New York (the close plus SIP's delay) in both EST and EDT", () => {
    for (const now of ["2024-01-15T12:00:00Z", "2024-07-15T12:00:00Z"]) {
      const at = nextCatchUpAt(new Date(now));
      const ny = new Intl.DateTimeFormat("en-US", { timeZone: "America/New_York", hour: "2-digit", minute: "2-digit", hourCycle: "h23" }).format(at);
      expect(ny >= "20:15").toBe(true);
    }
  });
});

describe("npm start -- --follow: options", () => {
  const now = new Date("2026-12-03T06:00:00Z");
  it("takes --from and no end, and refuses --to or a start in the future, naming the flag", () => {
    const opts = parseOptions(["--follow", "--from", "2026-11-23"], {}, now);
    expect(opts).toMatchObject({ follow: true, rangeStart: new Date("2026-11-23T00:00:00Z") });
    expect(parseOptions([], {}, now).follow).toBe(false);
    expect(() => parseOptions(["--follow", "--to", "2026-12-01"], {}, now)).toThrow(/--to is not for --follow/);
    expect(() => parseOptions(["--follow", "--from", "2026-12-04"], {}, now)).toThrow(/--from must be in the past with --follow/);
  });
});
