/** The backfill range: `[start, end)` in UTC, the same half-open convention as the slices. */

const DAY_MS = 86_400_000;

/** Weeks of the demo backfill (measured: see docs/start.md). */
export const DEMO_WEEKS = 10;

/**
 * The most recent Sunday 00:00 UTC at or before `now`: every US session of the
 * week before it (extended hours end by 01:00 UTC Saturday) is complete, and the
 * default range stays the same all week, so a rerun resumes the same definitions.
 */
export function lastSundayUtc(now: Date): Date {
  const midnight = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate());
  return new Date(midnight - new Date(midnight).getUTCDay() * DAY_MS);
}

export function demoStartFor(end: Date, weeks = DEMO_WEEKS): Date {
  return new Date(end.getTime() - weeks * 7 * DAY_MS);
}

export function defaultDemoRange(now: Date): { start: Date; end: Date } {
  const end = lastSundayUtc(now);
  return { start: demoStartFor(end), end };
}

/** `YYYY-MM-DD` (00:00 UTC) or an ISO timestamp with a zone; undefined otherwise. */
export function parseRangeBound(value: string): Date | undefined {
  const v = value.trim();
  if (/^\d{4}-\d{2}-\d{2}$/.test(v)) {
    const d = new Date(`${v}T00:00:00Z`);
    return Number.isNaN(d.getTime()) || d.toISOString().slice(0, 10) !== v ? undefined : d;
  }
  if (!/^\d{4}-\d{2}-\d{2}T.*(Z|[+-]\d{2}:?\d{2})$/.test(v)) return undefined;
  const d = new Date(v);
  return Number.isNaN(d.getTime()) ? undefined : d;
}

export function formatRange(start: Date, end: Date): string {
  const show = (d: Date) => (d.getTime() % DAY_MS === 0 ? d.toISOString().slice(0, 10) : d.toISOString());
  return `[${show(start)}, ${show(end)}) UTC`;
}
