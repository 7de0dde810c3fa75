/**
 * The ground-truth 1-minute bar: a pure function of (entity, feed, minute,
 * adjustment). Prices follow multi-octave value noise around the entity's
 * level (continuous, already fully adjusted), converted to raw by the
 * corporate-action multipliers; IEX is a deterministic subset of SIP minutes
 * with a few percent of the volume.
 */
import { type AdjustmentSet, factorSegment, type FactorSegment } from "./corporate-actions.ts";
import { unit, valueNoise } from "./random.ts";
import type { Profile } from "./symbols.ts";

export type DataFeed = "sip" | "iex";

export interface RawBar {
  t: number; // UTC ms of the bucket start
  o: number;
  h: number;
  l: number;
  c: number;
  v: number;
  n: number;
  vw: number;
}

const SALT_EXISTS = 11;
const SALT_IEX = 12;
const SALT_WICK = 13;
const SALT_VOLUME = 14;
const SALT_VWAP = 15;
const SALT_IEX_PRICE = 16;
const SALT_IEX_VOLUME = 17;

/** [period in minutes, amplitude of log price]. */
const OCTAVES: ReadonlyArray<readonly [number, number]> = [
  [60 * 24 * 90, 0.35],
  [60 * 24 * 12, 0.12],
  [60 * 24 * 2, 0.04],
  [180, 0.012],
  [20, 0.004],
  [3, 0.0012],
];

/** Continuous (fully adjusted) price at a minute index. */
export function continuousPrice(p: Profile, minute: number): number {
  let log = 0;
  for (let i = 0; i < OCTAVES.length; i++) {
    const [period, amp] = OCTAVES[i]!;
    log += amp * valueNoise(p.key, 100 + i, minute, period);
  }
  return p.basePrice * Math.exp(log);
}

export const round = (x: number, dp: number) => {
  const f = 10 ** dp;
  return Math.round(x * f) / f;
};
export const roundPrice = (x: number) => (x >= 1 ? round(x, 2) : round(x, 4));

/** Generates minute bars for one entity/feed/adjustment, caching the corporate-action segment. */
export class MinuteBarSource {
  private segment: FactorSegment | undefined;

  constructor(readonly profile: Profile, readonly feed: DataFeed, readonly kinds: AdjustmentSet) {}

  /** Corporate-action factors at `t` (constant between ex-dates, which fall on midnights). */
  factorsAt(t: number): FactorSegment {
    const s = this.segment;
    if (s && t >= s.from && t < s.until) return s;
    return (this.segment = factorSegment(this.profile.entity, t, this.kinds));
  }

  /** The bar of the minute starting at `t`, or null when that minute had no trades. */
  bar(t: number, regular: boolean): RawBar | null {
    const p = this.profile;
    const minute = Math.floor(t / 60_000);
    if (unit(p.key, SALT_EXISTS, minute) >= (regular ? p.pRegular : p.pExtended)) return null;
    const iex = this.feed === "iex";
    if (iex && unit(p.key, SALT_IEX, minute) >= (regular ? p.iexCoverage : p.iexCoverage / 2)) return null;

    const f = this.factorsAt(t);
    let o = continuousPrice(p, minute) * f.rawPrice;
    let c = continuousPrice(p, minute + 1) * f.rawPrice;
    if (iex) {
      o *= 1 + 0.0004 * (unit(p.key, SALT_IEX_PRICE, minute) - 0.5);
      c *= 1 + 0.0004 * (unit(p.key, SALT_IEX_PRICE, -minute) - 0.5);
    }
    const wick = 0.0006 * unit(p.key, SALT_WICK, minute);
    o = roundPrice(o);
    c = roundPrice(c);
    const h = roundPrice(Math.max(o, c) * (1 + wick));
    const l = roundPrice(Math.min(o, c) * (1 - wick * unit(p.key, SALT_WICK, -minute)));

    const session = regular ? 1 : 0.05;
    const contVolume = p.baseVolume * session * (0.3 + 1.4 * unit(p.key, SALT_VOLUME, minute));
    let rawVolume = Math.max(1, Math.round(contVolume / f.rawVolumeDivisor));
    if (iex) rawVolume = Math.max(1, Math.round(rawVolume * (0.02 + 0.015 * unit(p.key, SALT_IEX_VOLUME, minute))));
    const n = Math.min(rawVolume, Math.max(1, Math.round(rawVolume / p.tradeSize)));
    const vw = l + (h - l) * unit(p.key, SALT_VWAP, minute);

    return adjust({ t, o, h, l, c, v: rawVolume, n, vw }, f);
  }
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
