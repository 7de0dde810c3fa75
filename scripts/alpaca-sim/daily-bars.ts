/**
 * Daily bars from a day-level model instead of summing ~960 minutes, so a
 * page of 10,000 daily bars stays cheap. Prices come from the same continuous
 * series as the minute bars (open = the 09:30 price, close = the closing
 * price, high/low from 10-minute samples of the regular session); volume is
 * the day's expected minute volume times a daily factor, so 1Day v is close to
 * but, as on Alpaca, not exactly Σ of the minute volumes.
 */
import type { Session } from "../lib/market-calendar/index.ts";
import { adjust, printedOpenClose, round, roundPrice, tradeCount } from "./bar-rules.ts";
import { continuousPrice, type MinuteBarSource, type RawBar } from "./minute-bars.ts";
import { unit } from "./random.ts";
import { DAY_SALT } from "./salts.ts";

const SAMPLE_MINUTES = 10;

/** The bar of one trading session, stamped `t` (its New York midnight). */
export function sessionDayBar(src: MinuteBarSource, s: Session, t: number): RawBar {
  const p = src.profile;
  const f = src.factorsAt(s.regularOpen);
  const openMin = s.regularOpen / 60_000;
  const closeMin = s.regularClose / 60_000;
  const open = continuousPrice(p, openMin) * f.rawPrice;
  const close = continuousPrice(p, closeMin) * f.rawPrice;
  let hi = Math.max(open, close);
  let lo = Math.min(open, close);
  for (let m = openMin + SAMPLE_MINUTES; m < closeMin; m += SAMPLE_MINUTES) {
    const x = continuousPrice(p, m) * f.rawPrice;
    if (x > hi) hi = x;
    if (x < lo) lo = x;
  }
  const iex = src.feed === "iex";
  const [o, c] = printedOpenClose(p, iex, DAY_SALT.iexPrice, s.dayNumber, open, close);
  const wick = 0.002 * unit(p.key, DAY_SALT.wick, s.dayNumber);
  const h = roundPrice(Math.max(hi, o, c) * (1 + wick));
  const l = roundPrice(Math.min(lo, o, c) * (1 - wick));

  const regularMinutes = closeMin - openMin;
  const extendedMinutes = (s.extendedClose - s.extendedOpen) / 60_000 - regularMinutes;
  const expected = p.baseVolume * (regularMinutes * p.pRegular + extendedMinutes * 0.05 * p.pExtended);
  let volume = expected * (0.85 + 0.3 * unit(p.key, DAY_SALT.volume, s.dayNumber));
  if (iex) volume *= p.iexCoverage * (0.02 + 0.015 * unit(p.key, DAY_SALT.iexVolume, s.dayNumber));
  const v = Math.max(1, Math.round(volume / f.rawVolumeDivisor));
  const n = tradeCount(p, v);
  const vw = round(l + (h - l) * (0.3 + 0.4 * unit(p.key, DAY_SALT.vwap, s.dayNumber)), 6);
  return adjust({ t, o, h, l, c, v, n, vw }, f);
}
