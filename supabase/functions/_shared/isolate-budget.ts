/**
 * What is left of this isolate's life. The Edge Runtime terminates an isolate
 * at its wall clock (counted from the isolate's start) and at its CPU hard
 * limit (CPU accumulated over the isolate's whole life, shared by every
 * request it serves), pending background work and all. A slice cut off there
 * would sit in `running` until its lease expires and then lose an attempt.
 *
 * So every slice asks before each page whether the isolate can afford it,
 * and hands its run back (checkpoint kept, lease freed) while it still can.
 * The runtime's `beforeunload` is the last warning: every run this isolate
 * holds is handed back at once, and a slice still waiting on Alpaca then
 * finds its claim gone and writes nothing.
 */

export interface IsolateLimits {
  /** Wall clock from the isolate's start to its termination (free plan 150 s, paid 400 s). */
  wallClockMs: number;
  /** CPU at which the isolate is terminated (hosted: 2 s). */
  cpuMs: number;
}

/**
 * CPU an isolate spends where it cannot be measured (Deno 2.1, the Edge
 * Runtime's, has no CPU clock): its boot, then per page a fixed part and a
 * part per bar (parsing, converting, sending them). Measured on the local
 * platform with every thread counted (the isolate's /proc CPU over a drained
 * backfill, boot subtracted): a 10,000-bar page costs 50-57 ms with one to four
 * pages in flight, more with a dozen at once (the garbage collector's
 * threads), so the estimate is 100 ms. An estimate far above the real cost
 * no longer starves an isolate the runtime keeps alive: see sliceArrived().
 */
export interface CpuEstimate {
  bootMs: number;
  perPageMs: number;
  perBarMs: number;
}

export const DEFAULT_CPU_ESTIMATE: CpuEstimate = { bootMs: 350, perPageMs: 10, perBarMs: 0.009 };

/**
 * The runtime retires an isolate (routes no new request to it) once its CPU
 * reaches the soft limit, half the hard limit on the Edge Runtime's defaults
 * and on the local platform (EDGE_CPU_SOFT_MS of EDGE_CPU_HARD_MS).
 */
const SOFT_LIMIT_SHARE = 0.5;

/** Alpaca's largest page: what a page not yet seen may cost. */
const FULL_PAGE_BARS = 10_000;

const pageCost = (e: CpuEstimate, bars: number) => e.perPageMs + bars * e.perBarMs;

export interface IsolateClock {
  /** When this isolate started (its modules were evaluated). */
  startedAt: number;
  now(): number;
  /** CPU this isolate has used so far, where the runtime lets us measure it. */
  cpuUsedMs(): number | undefined;
}

/** Share of the wall clock after which no slice starts another page. */
const WALL_CLOCK_SHARE = 0.75;
/**
 * Share of the CPU limit the isolate may plan to reach with the pages in
 * flight. beforeunload comes at 90 %, and a busy isolate may not get its
 * hand-backs written in the last 10 %: plan to stop well before.
 */
const CPU_SHARE = 0.8;

/** Pages one fresh isolate can afford within its CPU limit, by the estimate. */
export function pagesPerIsolate(cpuLimitMs: number, estimate: CpuEstimate = DEFAULT_CPU_ESTIMATE): number {
  return Math.max(1, Math.floor((CPU_SHARE * cpuLimitMs - estimate.bootMs) / pageCost(estimate, FULL_PAGE_BARS)));
}

export type HandBack = (reason: string) => Promise<unknown>;

export class IsolateBudget {
  #pages = 0;
  /** CPU the stored pages cost by the estimate. */
  #estimatedPagesMs = 0;
  /** Pages granted by reservePage() and not yet stored or abandoned. */
  #fetching = 0;
  /** Estimated CPU taken back by sliceArrived(): the runtime's routing showed the estimate was too high. */
  #correctionMs = 0;
  #unloading: string | null = null;
  readonly #held = new Set<HandBack>();

  constructor(
    readonly limits: IsolateLimits,
    private readonly clock: IsolateClock,
    private readonly estimate: CpuEstimate = DEFAULT_CPU_ESTIMATE,
  ) {}

  /**
   * Asks to fetch one more page. Null grants it (the caller then calls
   * pageStored or pageAbandoned exactly once); otherwise the reason the
   * isolate cannot afford it and the run should be handed back. A page's CPU
   * is reserved for every page already granted and not yet stored, so slices
   * sharing the isolate never plan past its limit together.
   */
  reservePage(): string | null {
    const reason = this.#stopReason();
    if (reason === null) this.#fetching++;
    return reason;
  }

  /**
   * A new slice reached this isolate, so the runtime had not retired it: its
   * CPU was below the soft limit. Where CPU is only estimated, an estimate
   * above that is corrected down to it. Without this, an isolate whose
   * estimate ran out while its real CPU stayed under the soft limit would keep
   * receiving runs and hand every one back unserved until its wall clock
   * retired it, each bounce counting towards the run's hand-back limit.
   */
  sliceArrived(): void {
    if (this.clock.cpuUsedMs() !== undefined) return;
    const over = this.#estimatedCpuMs() - SOFT_LIMIT_SHARE * this.limits.cpuMs;
    if (over > 0) this.#correctionMs += over;
  }

  #estimatedCpuMs(): number {
    return this.estimate.bootMs + this.#estimatedPagesMs - this.#correctionMs;
  }

  pageStored(bars: number): void {
    this.#pages++;
    this.#estimatedPagesMs += pageCost(this.estimate, bars);
    this.#fetching = Math.max(0, this.#fetching - 1);
  }

  pageAbandoned(): void {
    this.#fetching = Math.max(0, this.#fetching - 1);
  }

  #stopReason(): string | null {
    if (this.#unloading !== null) return `isolate unloading (${this.#unloading})`;
    const age = this.clock.now() - this.clock.startedAt;
    if (age >= WALL_CLOCK_SHARE * this.limits.wallClockMs) {
      return `isolate wall clock: ${Math.round(age)} ms of ${this.limits.wallClockMs} ms used`;
    }
    const measured = this.clock.cpuUsedMs();
    const cpu = measured ?? this.#estimatedCpuMs();
    // A page in flight costs what this isolate's pages cost on average (a
    // full page before the first), or more where CPU is measured and says so.
    const estimatedPerPage = this.#pages === 0
      ? pageCost(this.estimate, FULL_PAGE_BARS)
      : this.#estimatedPagesMs / this.#pages;
    const perPage = measured === undefined || this.#pages === 0
      ? estimatedPerPage
      : Math.max(estimatedPerPage, (measured - this.estimate.bootMs) / this.#pages);
    if (cpu + (this.#fetching + 1) * perPage >= CPU_SHARE * this.limits.cpuMs) {
      return `isolate CPU: ${Math.round(cpu)} ms of ${this.limits.cpuMs} ms used${measured === undefined ? " (estimated)" : ""}` +
        ` with ${this.#fetching} page(s) in flight`;
    }
    return null;
  }

  /**
   * Registers a run this isolate holds; `handBack` is called if the isolate
   * unloads while it is held. Returns the function that releases the hold.
   */
  hold(handBack: HandBack): () => void {
    this.#held.add(handBack);
    return () => void this.#held.delete(handBack);
  }

  get unloading(): string | null {
    return this.#unloading;
  }

  /** beforeunload: hands back every held run now; resolves when all were recorded (or failed to be). */
  async unload(reason: string): Promise<void> {
    this.#unloading ??= reason;
    const held = [...this.#held];
    this.#held.clear();
    await Promise.allSettled(held.map((handBack) => handBack(`isolate unloading (${reason})`)));
  }
}

/** No limits: for callers that run slices outside an isolate (tests, benchmarks). */
export function unlimitedBudget(): IsolateBudget {
  return new IsolateBudget({ wallClockMs: Infinity, cpuMs: Infinity }, {
    startedAt: 0,
    now: () => 0,
    cpuUsedMs: () => undefined,
  });
}
