/** Symbol lists from flags and files, and the split of a long list into baskets. */
import { readFile } from "node:fs/promises";
import { UsageError } from "./cli-errors.ts";

/** Comma-, space- or newline-separated; `#` starts a comment that runs to the end of the line. */
export function parseSymbolList(text: string): string[] {
  return text
    .split(/\r?\n/)
    .map((line) => line.replace(/#.*$/, ""))
    .flatMap((line) => line.split(/[,\s]+/))
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}

export async function readSymbolsFile(path: string): Promise<string[]> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (err) {
    throw new UsageError(`--symbols-file: cannot read ${path}: ${(err as Error).message}`);
  }
  return parseSymbolList(text);
}

export interface Basket {
  name: string;
  symbols: string[];
}

/** Consecutive baskets of at most `size` symbols, named PREFIX_1 … PREFIX_k, in list order. */
export function splitIntoBaskets(prefix: string, symbols: readonly string[], size: number): Basket[] {
  const baskets: Basket[] = [];
  for (let i = 0; i < symbols.length; i += size) {
    baskets.push({ name: `${prefix}_${baskets.length + 1}`, symbols: symbols.slice(i, i + size) });
  }
  return baskets;
}

/** Symbols that occur more than once, each named once. */
export function duplicatesOf(symbols: readonly string[]): string[] {
  const seen = new Set<string>();
  const dup = new Set<string>();
  for (const s of symbols) (seen.has(s) ? dup : seen).add(s);
  return [...dup];
}
