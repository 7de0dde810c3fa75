/**
 * The platform seam: the only code that touches `Deno.*` and `EdgeRuntime`.
 * Everything else receives a Platform, so handlers and their wiring run under
 * Node tests with a fake one, and the same code runs on Supabase's Edge
 * Runtime and on the local gateway that stands in for it.
 */
import type { GetEnv } from "./config.ts";

export interface Platform {
  getEnv: GetEnv;
  serve(handler: (req: Request) => Promise<Response>): void;
  /**
   * Keeps work alive after the response is sent (EdgeRuntime.waitUntil).
   * Absent where the runtime has none; callers then run the work inline.
   */
  waitUntil?: (work: Promise<unknown>) => void;
  /**
   * Runs `listener` when the runtime is about to retire or terminate this
   * isolate (wall clock, CPU or memory), with the runtime's reason: the last
   * moment to hand work back before it is cut off.
   */
  onBeforeUnload(listener: (reason: string | undefined) => void): void;
}

interface EdgeGlobals {
  Deno: {
    env: { get(name: string): string | undefined };
    serve(handler: (req: Request) => Promise<Response>): unknown;
  };
  EdgeRuntime?: { waitUntil(work: Promise<unknown>): void };
}

/** The Edge Runtime as seen from inside a function's isolate. */
export function edgePlatform(): Platform {
  const g = globalThis as unknown as EdgeGlobals;
  const edge = g.EdgeRuntime;
  return {
    getEnv: (name) => g.Deno.env.get(name),
    serve: (handler) => void g.Deno.serve(handler),
    waitUntil: edge && ((work) => edge.waitUntil(work)),
    onBeforeUnload: (listener) =>
      globalThis.addEventListener("beforeunload", (event) =>
        listener((event as CustomEvent<{ reason?: string } | undefined>).detail?.reason)),
  };
}
