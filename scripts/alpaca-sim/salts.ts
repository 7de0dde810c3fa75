/**
 * The salts of the bar generators' draws, `unit(profile.key, salt, index)`.
 * Every quantity has its own salt, so no two are correlated; the salts are
 * listed together so that stays visible. A value here is part of the data:
 * changing one changes every bar the simulator serves, so add, never renumber.
 * (Profiles draw with salts 1-7 at index 0, see symbols.ts; the price noise
 * uses 100 + octave, see continuousPrice.)
 */

/** Draws indexed by minute number (minute-bars.ts). */
export const MINUTE_SALT = {
  exists: 11,
  iex: 12,
  wick: 13,
  volume: 14,
  vwap: 15,
  iexPrice: 16,
  iexVolume: 17,
} as const;

/** Draws indexed by session day number (daily-bars.ts). */
export const DAY_SALT = {
  wick: 21,
  volume: 22,
  vwap: 23,
  iexPrice: 24,
  iexVolume: 25,
} as const;
