/**
 * Stateless, seedable hashing: every pseudo-random quantity in the simulator
 * is `unit(key, salt, index)`, so any value can be recomputed in isolation
 * (no generator state to walk), which is what makes the data a pure function.
 */

/** murmur3 finaliser: a bijective 32-bit mix. */
function fmix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** 32-bit FNV-1a of a string. */
export function hashString(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** Hash of three 32-bit integers (index may be any safe integer). */
export function hash3(a: number, b: number, c: number): number {
  const lo = c >>> 0;
  const hi = Math.floor(c / 4294967296) >>> 0;
  let h = fmix((a ^ 0x9e3779b9) >>> 0);
  h = fmix((h ^ b) >>> 0);
  h = fmix((h ^ lo) >>> 0);
  return fmix((h ^ hi ^ 0x27d4eb2f) >>> 0);
}

/** Uniform in [0, 1). */
export function unit(a: number, b: number, c: number): number {
  return hash3(a, b, c) / 4294967296;
}

/** Smooth 1-D value noise in [-1, 1] with grid spacing `period` (same units as x). */
export function valueNoise(key: number, salt: number, x: number, period: number): number {
  const i = Math.floor(x / period);
  const f = x / period - i;
  const v0 = unit(key, salt, i) * 2 - 1;
  const v1 = unit(key, salt, i + 1) * 2 - 1;
  const s = f * f * (3 - 2 * f);
  return v0 + (v1 - v0) * s;
}

/** Deterministic sequence generator (mulberry32) for fault decisions. */
export function seededSequence(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
