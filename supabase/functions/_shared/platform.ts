/**
 * The platform seam: the only code that touches `Deno.*` and `EdgeRuntime`.
 * Everything else receives a Platform, so handlers and their wiring run under
 * Node tests with a fake one, and the same code runs on Supabase's Edge
 * Runtime and on the local gateway that stands in for it.
 */
import process from "node:process";
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
  /** When this isolate started: its modules were evaluated then. */
  startedAt: number;
  /** CPU this isolate has used, in ms, where the runtime lets us measure it (else undefined). */
  cpuUsedMs(): number | undefined;
}

/** Evaluated once per isolate, with the module graph. */
const ISOLATE_STARTED_AT = Date.now();

function readProcessCpuMs(): number | undefined {
  try {
    const { user, system } = process.cpuUsage();
    return (user + system) / 1000;
  } catch {
    return undefined;
  }
}

/**
 * Whether process.cpuUsage() measures anything here. Deno 2.1 (the Edge
 * Runtime's) only stubs it, answering zeros with a warning on each call, so
 * it is asked once, with that warning silenced, and never again if it is a stub.
 */
const PROCESS_CPU_IS_MEASURED = (() => {
  const warn = console.warn;
  console.warn = () => {};
  try {
    let spin = 0;
    for (let i = 0; i < 200_000; i++) spin += i;
    return spin > 0 && (readProcessCpuMs() ?? 0) > 0;
  } finally {
    console.warn = warn;
  }
})();

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
    startedAt: ISOLATE_STARTED_AT,
    // Process CPU where the runtime implements it (it overcounts where isolates
    // share a process: the safe side); elsewhere the budget estimates it.
    cpuUsedMs: () => (PROCESS_CPU_IS_MEASURED ? readProcessCpuMs() : undefined),
  };
}
