/**
 * Runs the functions gateway (real Deno) and restarts it when it dies on its
 * own: a bounded number of times in a window, with exponential backoff. Runs it
 * was working on keep their leases until they expire; the next tick requeues them.
 */
import { createWriteStream } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import { type FunctionsGateway, type GatewayExit, startFunctionsGateway } from "../gateway/spawn.ts";
import { freePort } from "../lib/local-host.ts";

export interface SupervisorOptions {
  /** The functions' environment; SUPABASE_URL is set here to the gateway's own URL. */
  env: Record<string, string>;
  /** 0 = a free port, chosen once: restarts reuse it, because SUPABASE_URL names it. */
  port: number;
  logFile: string;
  say: (text: string) => void;
  /** True once npm start is shutting down: a gateway that exits then (Ctrl-C reached it too) is not restarted. */
  shuttingDown: () => boolean;
  maxRestarts?: number;
  restartWindowMs?: number;
  /** Seconds the gateway gives in-flight requests and background work when stopped. */
  shutdownTimeoutMs?: number;
}

export interface SupervisedGateway {
  url: string;
  pid(): number | undefined;
  /** Resolves with the reason when the gateway keeps dying and restarts are used up. */
  gaveUp: Promise<Error>;
  /** Graceful: SIGTERM, in-flight work finishes (bounded), then SIGKILL. */
  stop(): Promise<void>;
  /** Immediate, for a second Ctrl-C. */
  kill(): void;
}

/** The gateway logs this when it receives a signal (for instance Ctrl-C in the same terminal). */
const SHUTDOWN_LINE = '"msg":"shutdown requested"';

export async function startSupervisedGateway(opts: SupervisorOptions): Promise<SupervisedGateway> {
  const { maxRestarts = 5, restartWindowMs = 10 * 60_000, shutdownTimeoutMs = 5_000 } = opts;
  const port = opts.port || (await freePort());
  const url = `http://127.0.0.1:${port}`;
  const env = { ...opts.env, SUPABASE_URL: url, GATEWAY_SHUTDOWN_TIMEOUT_MS: String(shutdownTimeoutMs) };
  const log = createWriteStream(opts.logFile, { flags: "a" });

  let current: FunctionsGateway | undefined;
  let launching: Promise<FunctionsGateway> | undefined;
  let signalled = false;
  let stopping = false;
  const recentRestarts: number[] = [];
  let giveUp!: (e: Error) => void;
  const gaveUp = new Promise<Error>((resolve) => (giveUp = resolve));

  const launch = async () => {
    signalled = false;
    launching = startFunctionsGateway({
      env,
      port,
      onLog: (line) => {
        if (line.includes(SHUTDOWN_LINE)) signalled = true;
        log.write(`${line}\n`);
      },
    });
    const g = await launching.finally(() => (launching = undefined));
    current = g;
    void g.exited.then((exit) => {
      if (!stopping && !opts.shuttingDown() && current === g) void restart(exit);
    });
    return g;
  };

  const restart = async (exit: GatewayExit) => {
    const how = exit.signal ? `signal ${exit.signal}` : `code ${exit.code}`;
    for (;;) {
      const now = Date.now();
      while (recentRestarts.length > 0 && recentRestarts[0]! < now - restartWindowMs) recentRestarts.shift();
      if (recentRestarts.length >= maxRestarts) {
        giveUp(new Error(`functions gateway keeps dying (${maxRestarts} restarts within ${restartWindowMs / 60_000} min; last: ${how}); see ${opts.logFile}`));
        return;
      }
      const delay = Math.min(10_000, 500 * 2 ** recentRestarts.length);
      recentRestarts.push(now);
      opts.say(`functions gateway exited unexpectedly (${how}); restarting in ${delay / 1000}s (${recentRestarts.length}/${maxRestarts})`);
      await sleep(delay);
      if (stopping || opts.shuttingDown()) return;
      try {
        const g = await launch();
        opts.say(`functions gateway restarted: ${url} (pid ${g.process.pid})`);
        return;
      } catch (err) {
        opts.say(`functions gateway did not come back: ${(err as Error).message.split("\n")[0]}`);
      }
    }
  };

  try {
    await launch();
  } catch (err) {
    log.end();
    throw err;
  }
  return {
    url,
    pid: () => current?.process.pid,
    gaveUp,
    async stop() {
      stopping = true;
      await launching?.catch(() => {});
      const g = current;
      if (g) {
        // A gateway that already got the signal (Ctrl-C reaches the whole terminal) is shutting
        // down gracefully, and a second signal would make it exit at once: it is only waited for.
        // It logs that within moments of the signal, which reached this process at the same time.
        await sleep(100);
        if (signalled) await exitedOrKilled(g, shutdownTimeoutMs + 5_000);
        else await g.stop({ timeoutMs: shutdownTimeoutMs + 5_000 });
      }
      await new Promise<void>((resolve) => log.end(resolve));
    },
    kill() {
      stopping = true;
      current?.kill("SIGKILL");
    },
  };
}

async function exitedOrKilled(g: FunctionsGateway, timeoutMs: number): Promise<void> {
  const timer = setTimeout(() => g.kill("SIGKILL"), timeoutMs);
  await g.exited;
  clearTimeout(timer);
}
