/**
 * Page tokens in Alpaca's current format: base64 of
 * `SYMBOL|<timeframe letter>|<unix ns of the next row>`. The encoded row is
 * the first row of the next page (inclusive resume).
 */
import type { Position } from "./walk.ts";

export function encodePageToken(symbol: string, letter: string, tMs: number): string {
  return btoa(`${symbol}|${letter}|${BigInt(tMs) * 1_000_000n}`);
}

export interface DecodedToken extends Position {
  letter: string;
}

/** undefined when the token is not one of ours. */
export function decodePageToken(token: string): DecodedToken | undefined {
  let text: string;
  try {
    text = atob(token);
  } catch {
    return undefined;
  }
  const match = /^([^|]+)\|([A-Z])\|(\d{1,20})$/.exec(text);
  if (!match) return undefined;
  const ns = BigInt(match[3]!);
  return { symbol: match[1]!, letter: match[2]!, t: Number(ns / 1_000_000n) };
}
