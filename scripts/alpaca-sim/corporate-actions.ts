/**
 * Seeded corporate actions and Alpaca's `adjustment` semantics: a bar is
 * adjusted for every action whose ex-date is after the bar's start. Splits
 * scale price (÷ ratio) and volume (× ratio); dividends and spin-offs scale
 * price only (× factor < 1).
 */
import { nyMidnight, parseDay } from "../lib/market-calendar/index.ts";

export type ActionKind = "split" | "dividend" | "spin-off";

export interface CorporateAction {
  kind: ActionKind;
  /** Ex-date (first New York day trading ex-action), as UTC ms of its midnight. */
  exMs: number;
  /** split: shares ratio (4 = 4-for-1); dividend/spin-off: price factor in (0, 1). */
  value: number;
}

const action = (kind: ActionKind, day: string, value: number): CorporateAction => ({
  kind,
  exMs: nyMidnight(parseDay(day)!),
  value,
});

function quarterlyDividends(firstYear: number, lastYear: number, factor: number): CorporateAction[] {
  const out: CorporateAction[] = [];
  for (let y = firstYear; y <= lastYear; y++) {
    for (const m of ["02", "05", "08", "11"]) out.push(action("dividend", `${y}-${m}-12`, factor));
  }
  return out;
}

const ACTIONS: Record<string, CorporateAction[]> = {
  AAPL: [action("split", "2020-08-31", 4), ...quarterlyDividends(2016, 2030, 0.9958)],
  NVDA: [action("split", "2021-07-20", 4), action("split", "2024-06-10", 10)],
  TSLA: [action("split", "2020-08-31", 5), action("split", "2022-08-25", 3)],
  AMZN: [action("split", "2022-06-06", 20)],
  GOOGL: [action("split", "2022-07-18", 20)],
  GOOG: [action("split", "2022-07-18", 20)],
  MSFT: quarterlyDividends(2016, 2030, 0.9935),
  GE: [action("spin-off", "2023-01-04", 0.82), action("spin-off", "2024-04-02", 0.79)],
};

export function actionsOf(entity: string): readonly CorporateAction[] {
  return ACTIONS[entity] ?? [];
}

export type AdjustmentSet = ReadonlySet<ActionKind>;

/** Parses `raw`, `split`, `dividend`, `spin-off`, `all` or a comma list of them. */
export function parseAdjustment(text: string): AdjustmentSet | undefined {
  const kinds = new Set<ActionKind>();
  for (const part of text.split(",")) {
    const p = part.trim();
    if (p === "raw") continue;
    if (p === "all") ["split", "dividend", "spin-off"].forEach((k) => kinds.add(k as ActionKind));
    else if (p === "split" || p === "dividend" || p === "spin-off") kinds.add(p);
    else return undefined;
  }
  return kinds;
}

/**
 * Everything needed to turn the continuous series into output at time t. The
 * values are constant on [from, until) (between consecutive ex-dates), so
 * callers can reuse one segment for every minute inside it.
 */
export interface FactorSegment {
  from: number;
  until: number;
  /** Raw price = continuous price × rawPrice; raw volume = continuous volume ÷ rawVolumeDivisor. */
  rawPrice: number;
  rawVolumeDivisor: number;
  /** Output = raw × these, for the requested adjustment set. */
  price: number;
  volume: number;
}

export function factorSegment(entity: string, t: number, kinds: AdjustmentSet): FactorSegment {
  const seg: FactorSegment = { from: -Infinity, until: Infinity, rawPrice: 1, rawVolumeDivisor: 1, price: 1, volume: 1 };
  for (const a of actionsOf(entity)) {
    if (a.exMs <= t) {
      seg.from = Math.max(seg.from, a.exMs);
      continue;
    }
    seg.until = Math.min(seg.until, a.exMs);
    const applied = kinds.has(a.kind);
    if (a.kind === "split") {
      seg.rawPrice *= a.value;
      seg.rawVolumeDivisor *= a.value;
      if (applied) {
        seg.price /= a.value;
        seg.volume *= a.value;
      }
    } else {
      seg.rawPrice /= a.value;
      if (applied) seg.price *= a.value;
    }
  }
  return seg;
}
