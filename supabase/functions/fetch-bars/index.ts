import { serve, workerDeps } from "../_shared/deps.ts";
import { handle } from "./handler.ts";

const edge = (globalThis as { EdgeRuntime?: { waitUntil(p: Promise<unknown>): void } }).EdgeRuntime;
Deno.serve(serve(() => workerDeps("fetch-bars", { getEnv: (n) => Deno.env.get(n), waitUntil: edge && ((p) => edge.waitUntil(p)) }), handle));
