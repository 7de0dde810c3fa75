/** Evaluates a function's `index.ts` in this isolate and finds the handler it serves with. */
import { describeError, log } from "../log.ts";
import type { FunctionHandler, Registration, RuntimeShims } from "./runtime.ts";

export type Loaded = { ok: true; registration: Registration } | { ok: false; error: string };

export async function loadFunction(fn: string, entryUrl: string, bootTimeoutMs: number, shims: RuntimeShims): Promise<Loaded> {
  const started = performance.now();
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    const imported = import(entryUrl) as Promise<Record<string, unknown>>;
    const timeout = new Promise<"timeout">((resolve) => (timer = setTimeout(() => resolve("timeout"), bootTimeoutMs)));
    const outcome = await Promise.race([imported.then((mod) => ({ mod })), timeout]);
    let registration = shims.registration();
    if (outcome === "timeout") {
      imported.catch((e) => log("error", "function module failed after its boot timeout", { fn, error: describeError(e) }));
      if (!registration) throw new Error(`module evaluation did not finish within ${bootTimeoutMs} ms`);
      log("warn", "module still evaluating after the boot timeout; serving the handler it registered", { fn });
    } else if (!registration) {
      // The Edge Runtime also serves `export default { fetch }`.
      const def = outcome.mod.default as { fetch?: unknown } | undefined;
      if (def && typeof def.fetch === "function") {
        const fetchFn = def.fetch as FunctionHandler;
        registration = { handler: (req, info) => fetchFn.call(def, req, info) };
      }
    }
    if (!registration) throw new Error("index.ts neither called Deno.serve nor exported default { fetch }");
    log("info", "function loaded", { fn, duration_ms: Math.round(performance.now() - started) });
    return { ok: true, registration };
  } catch (e) {
    log("error", "function failed to boot", { fn, error: describeError(e) });
    const first = (e instanceof Error ? `${e.name}: ${e.message}` : String(e)).split("\n")[0] ?? "";
    return { ok: false, error: first };
  } finally {
    clearTimeout(timer);
  }
}
