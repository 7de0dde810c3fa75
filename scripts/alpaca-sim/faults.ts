/**
 * Fault injection. Each authenticated, in-budget request draws one number
 * from a seeded sequence and falls into at most one fault mode (cumulative
 * probabilities, in the order of FAULT_MODES), so a run is reproducible for a
 * given seed and request order.
 *
 * CLI grammar (`--faults`), comma-separated `name:value` pairs:
 *
 *   spec  := item ("," item)*
 *   item  := name ":" value
 *   name  := "429" | "500" | "slow" | "truncated" | "invalid" | "reset" | "repeat" | "emptylast"
 *            (value = probability in [0, 1])
 *          | "seed" (integer) | "slowms" (milliseconds, default 35000)
 *
 *   e.g. --faults 429:0.05,500:0.05,slow:0.02,truncated:0.03,reset:0.03,seed:7
 */
import { seededSequence } from "./random.ts";

export interface FaultSpec {
  seed?: number;
  /** 429 {"message": "too many requests."}, as if the bucket were empty. */
  rate429?: number;
  /** 500 {"message": "internal server error"}. */
  error500?: number;
  /** Respond normally after `slowMs` (default 35 s: longer than the SDK's 30 s timeout). */
  slow?: number;
  slowMs?: number;
  /** 200 whose body is the first half of the JSON (Content-Length matches). */
  truncatedJson?: number;
  /** 200 whose body is not JSON. */
  invalidJson?: number;
  /** Destroy the socket without a response. */
  reset?: number;
  /** Return the request's own page token as next_page_token (only when it sent one). */
  repeatToken?: number;
  /** On a last page, return a token whose page is empty (then null). */
  emptyLastPage?: number;
}

export const FAULT_MODES = [
  "rate429",
  "error500",
  "slow",
  "truncatedJson",
  "invalidJson",
  "reset",
  "repeatToken",
  "emptyLastPage",
] as const;
export type FaultMode = (typeof FAULT_MODES)[number];

const CLI_NAMES: Record<string, FaultMode> = {
  "429": "rate429",
  "500": "error500",
  slow: "slow",
  truncated: "truncatedJson",
  invalid: "invalidJson",
  reset: "reset",
  repeat: "repeatToken",
  emptylast: "emptyLastPage",
};

export const DEFAULT_SLOW_MS = 35_000;

export function parseFaultSpec(text: string): FaultSpec {
  const spec: FaultSpec = {};
  for (const item of text.split(",").map((s) => s.trim()).filter(Boolean)) {
    const [name, value, extra] = item.split(":");
    const n = Number(value);
    if (name === undefined || value === undefined || extra !== undefined || !Number.isFinite(n)) {
      throw new Error(`bad fault item "${item}": expected name:value`);
    }
    if (name === "seed") spec.seed = n;
    else if (name === "slowms") spec.slowMs = n;
    else {
      const mode = CLI_NAMES[name];
      if (!mode) throw new Error(`unknown fault "${name}" (known: ${Object.keys(CLI_NAMES).join(", ")}, seed, slowms)`);
      if (n < 0 || n > 1) throw new Error(`fault probability out of [0, 1]: ${item}`);
      spec[mode] = n;
    }
  }
  return spec;
}

export class FaultInjector {
  private readonly next: () => number;

  constructor(readonly spec: FaultSpec) {
    const total = FAULT_MODES.reduce((sum, m) => sum + (spec[m] ?? 0), 0);
    if (total > 1 + 1e-9) throw new RangeError(`fault probabilities add up to ${total} > 1`);
    this.next = seededSequence(spec.seed ?? 1);
  }

  get slowMs(): number {
    return this.spec.slowMs ?? DEFAULT_SLOW_MS;
  }

  /** The fault for this request, if any. */
  draw(hasPageToken: boolean): FaultMode | undefined {
    const u = this.next();
    let acc = 0;
    for (const mode of FAULT_MODES) {
      acc += this.spec[mode] ?? 0;
      if (u < acc) return mode === "repeatToken" && !hasPageToken ? undefined : mode;
    }
    return undefined;
  }
}
