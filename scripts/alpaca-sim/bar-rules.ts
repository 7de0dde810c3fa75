/**
 * What the minute and the day generators share: rounding to the tick, the IEX
 * print of open and close, trade counts, and the corporate-action adjustment.
 */
import type { FactorSegment } from "./corporate-actions.ts";
import type { RawBar } from "./minute-bars.ts";
import { unit } from "./random.ts";
import type { Profile } from "./symbols.ts";

export const round = (x: number, dp: number) => {
  const f = 10 ** dp;
  return Math.round(x * f) / f;
};
export const roundPrice = (x: number) => (x >= 1 ? round(x, 2) : round(x, 4));

/**
 * Open and close as printed, rounded to the tick. IEX prints differ from
 * SIP's by up to ±2 bp; open draws at `index`, close at `-index`, so the two
 * are independent.
 */
export function printedOpenClose(
  p: Profile,
  iex: boolean,
  salt: number,
  index: number,
  open: number,
  close: number,
): [open: number, close: number] {
  let o = open;
  let c = close;
  if (iex) {
    o *= 1 + 0.0004 * (unit(p.key, salt, index) - 0.5);
    c *= 1 + 0.0004 * (unit(p.key, salt, -index) - 0.5);
  }
  return [roundPrice(o), roundPrice(c)];
}

/** Trades behind `volume` shares: volume / mean trade size, at least 1 and at most one per share. */
export function tradeCount(p: Profile, volume: number): number {
  return Math.min(volume, Math.max(1, Math.round(volume / p.tradeSize)));
}

/** Applies adjustment factors; keeps l ≤ o,c,vw ≤ h after rounding. */
export function adjust(b: RawBar, f: FactorSegment): RawBar {
  if (f.price === 1 && f.volume === 1) {
    b.vw = round(b.vw, 6);
    return b;
  }
  const px = (x: number) => round(x * f.price, 4);
  const h = px(b.h);
  const l = px(b.l);
  const vw = Math.min(h, Math.max(l, round(b.vw * f.price, 6)));
  return { t: b.t, o: px(b.o), h, l, c: px(b.c), v: b.v * f.volume, n: b.n, vw };
}
