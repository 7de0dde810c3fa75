/**
 * Serving a function: its dependencies are built from the platform on the
 * first request (so a cold isolate that only answers a health check opens no
 * pool), and a misconfigured function answers 500 naming what is missing
 * instead of crashing its isolate on every request.
 */
import { json } from "./http.ts";
import { edgePlatform, type Platform } from "./platform.ts";

export type Handle<D> = (req: Request, deps: D) => Promise<Response>;

export function lazyHandler<D>(build: () => D, handle: Handle<D>): (req: Request) => Promise<Response> {
  let deps: D | undefined;
  return async (req) => {
    try {
      deps ??= build();
    } catch (err) {
      return json(500, { error: "misconfigured", message: (err as Error).message });
    }
    return await handle(req, deps);
  };
}

/** The whole of a function's index.ts: its wiring and its handler, on the Edge Runtime. */
export function serveOnEdge<D>(build: (platform: Platform) => D, handle: Handle<D>): void {
  const platform = edgePlatform();
  platform.serve(lazyHandler(() => build(platform), handle));
}
