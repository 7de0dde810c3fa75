/**
 * Figures the tests/e2e/hosted files measure and print: PgBouncer's peak
 * connection counts, and where the orchestrator's ticks came from (pg_cron
 * through pg_net, or a worker after a hand-back).
 */
import postgres from "postgres";

export interface PoolerPeaks {
  /** Server connections PgBouncer held to Postgres for the pool (active, idle, used, tested, logging in). */
  servers: number;
  /** Of those, in a transaction at once. */
  activeServers: number;
  /** Client connections PgBouncer served for the pool (active or waiting). */
  clients: number;
  /** Clients waiting for a server connection. */
  waitingClients: number;
  samples: number;
}

/**
 * Polls PgBouncer's admin console (`show pools`, user pgbouncer) for the pool
 * of `pooled`'s database and user, keeping the peaks, until stop().
 */
export function samplePooler(pooled: string, everyMs = 200): { stop(): Promise<PoolerPeaks> } {
  const u = new URL(pooled);
  const database = u.pathname.slice(1);
  const user = decodeURIComponent(u.username);
  const admin = postgres({ host: u.hostname, port: Number(u.port), user: "pgbouncer", database: "pgbouncer",
                           max: 1, fetch_types: false, prepare: false, onnotice: () => {} });
  const peaks: PoolerPeaks = { servers: 0, activeServers: 0, clients: 0, waitingClients: 0, samples: 0 };
  let error: Error | undefined;
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      try {
        // No parameters: the admin console speaks only the simple query protocol.
        const pools = await admin.unsafe<Record<string, number | string>[]>("show pools");
        const p = pools.find((r) => r.database === database && r.user === user);
        if (p) {
          const n = (k: string) => Number(p[k] ?? 0);
          peaks.servers = Math.max(peaks.servers, n("sv_active") + n("sv_idle") + n("sv_used") + n("sv_tested") + n("sv_login"));
          peaks.activeServers = Math.max(peaks.activeServers, n("sv_active"));
          peaks.clients = Math.max(peaks.clients, n("cl_active") + n("cl_waiting"));
          peaks.waitingClients = Math.max(peaks.waitingClients, n("cl_waiting"));
        }
        peaks.samples++;
      } catch (err) {
        error = err as Error;
        stopped = true;
      }
      await new Promise((r) => setTimeout(r, everyMs));
    }
  })();
  return {
    async stop() {
      stopped = true;
      await loop;
      await admin.end({ timeout: 5 });
      if (error) throw new Error(`reading PgBouncer's admin console failed: ${error.message}`);
      return peaks;
    },
  };
}

export interface TickOrigins {
  /** Ticks whose response pg_net recorded (matched by the tick's worker id): pg_cron's. */
  cron: number;
  /** Other ticks: a worker that handed a run back asks for one itself (worker-deps.ts). */
  kicks: number;
  /** Runs claimed by all ticks together. */
  claimed: number;
  /** pg_net responses with no tick in the log (should be none). */
  unmatched: number;
}

/** The orchestrator's `tick` log lines against the response bodies pg_net stored. */
export function tickOrigins(logLines: readonly string[], responseBodies: readonly (string | null)[]): TickOrigins {
  const ticks = logLines.filter((l) => l.includes('"event":"tick"')).map((l) => JSON.parse(l) as { worker: string; claimed: number });
  const byCron = new Set(responseBodies.map((b) => (b ? (JSON.parse(b) as { worker?: string }).worker : undefined)));
  const cron = ticks.filter((t) => byCron.has(t.worker)).length;
  const logged = new Set(ticks.map((t) => t.worker));
  return {
    cron,
    kicks: ticks.length - cron,
    claimed: ticks.reduce((n, t) => n + t.claimed, 0),
    unmatched: [...byCron].filter((w) => !w || !logged.has(w)).length,
  };
}
