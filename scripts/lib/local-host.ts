/**
 * Where this checkout is and a free TCP port on this machine: what every
 * script, benchmark and test that spawns a child process or a server needs.
 * Free of Deno-only and vitest-only APIs, so Node (tsx) and Deno both import it.
 */
import { once } from "node:events";
import { createServer } from "node:net";
import { resolve } from "node:path";
import { fileURLToPath } from "node:url";

/** The repository root, absolute, without a trailing slash (this file is scripts/lib/local-host.ts). */
export const REPO_ROOT = resolve(fileURLToPath(new URL("../..", import.meta.url)));

/**
 * A port nothing listens on right now, found by binding port 0 and closing.
 * Another process may take it before the caller binds it; callers that can
 * bind port 0 themselves should.
 */
export async function freePort(host = "127.0.0.1"): Promise<number> {
  const server = createServer();
  server.listen(0, host);
  await once(server, "listening"); // rejects if the bind fails
  const address = server.address();
  await new Promise<void>((done) => server.close(() => done()));
  if (!address || typeof address === "string") throw new Error("could not find a free port");
  return address.port;
}
