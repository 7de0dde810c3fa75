/**
 * The ground-truth 1-minute bar: a pure function of (entity, feed, minute,
 * adjustment). Prices follow multi-octave value noise around the entity's
 * level (continuous, already fully adjusted), converted to raw by the
 * corporate-action multipliers; IEX is a deterministic subset of SIP minutes
 * with a few percent of the volume.
 */
import { adjust, printedOpenClose, roundPrice, tradeCount } from "./bar-rules.ts";
import { type AdjustmentSet, factorSegment, type FactorSegment } from "./corporate-actions.ts";
import { unit, valueNoise } from "./random.ts";
import { MINUTE_SALT } from "./salts.ts";
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
    if (unit(p.key, MINUTE_SALT.exists, minute) >= (regular ? p.pRegular : p.pExtended)) return null;
    const iex = this.feed === "iex";
    if (iex && unit(p.key, MINUTE_SALT.iex, minute) >= (regular ? p.iexCoverage : p.iexCoverage / 2)) return null;

    const f = this.factorsAt(t);
    const [o, c] = printedOpenClose(p, iex, MINUTE_SALT.iexPrice, minute,
      continuousPrice(p, minute) * f.rawPrice, continuousPrice(p, minute + 1) * f.rawPrice);
    const wick = 0.0006 * unit(p.key, MINUTE_SALT.wick, minute);
    const h = roundPrice(Math.max(o, c) * (1 + wick));
    const l = roundPrice(Math.min(o, c) * (1 - wick * unit(p.key, MINUTE_SALT.wick, -minute)));

    const session = regular ? 1 : 0.05;
    const contVolume = p.baseVolume * session * (0.3 + 1.4 * unit(p.key, MINUTE_SALT.volume, minute));
    let rawVolume = Math.max(1, Math.round(contVolume / f.rawVolumeDivisor));
    if (iex) rawVolume = Math.max(1, Math.round(rawVolume * (0.02 + 0.015 * unit(p.key, MINUTE_SALT.iexVolume, minute))));
    const n = tradeCount(p, rawVolume);
    const vw = l + (h - l) * unit(p.key, MINUTE_SALT.vwap, minute);

    return adjust({ t, o, h, l, c, v: rawVolume, n, vw }, f);
  }
}
