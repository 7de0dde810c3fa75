import { orchestratorDeps, serve } from "../_shared/deps.ts";
import { handle } from "./handler.ts";

const edge = (globalThis as { EdgeRuntime?: { waitUntil(p: Promise<unknown>): void } }).EdgeRuntime;
Deno.serve(serve(() => orchestratorDeps({ getEnv: (n) => Deno.env.get(n), waitUntil: edge && ((p) => edge.waitUntil(p)) }), handle));
