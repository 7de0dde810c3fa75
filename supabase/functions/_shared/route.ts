import type { Slice } from "./slice.ts";

export type WorkerFunction = "fetch-bars" | "fetch-bars-batch";

/**
 * The only routing decision in the system. Exhaustive over Slice["kind"]: a
 * new kind that is not routed here is a compile error, not a silent fallback.
 */
export function routeFor(slice: Slice): WorkerFunction {
  switch (slice.kind) {
    case "single":
      return "fetch-bars";
    case "batch":
      return "fetch-bars-batch";
    default: {
      const unreachable: never = slice;
      throw new Error(`no route for slice kind ${(unreachable as { kind: string }).kind}`);
    }
  }
}
