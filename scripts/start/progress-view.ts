/**
 * Shows progress: cli-progress bars (one per definition) on a terminal, plain
 * periodic lines otherwise (logs, CI, pipes: no escape codes).
 */
import cliProgress from "cli-progress";
import type { Output } from "./output.ts";
import { type DefinitionProgress, type Estimate, formatCompact, formatCount, formatDuration } from "./progress.ts";

export interface ProgressView {
  update(rows: DefinitionProgress[], estimates: Map<number, Estimate>): void;
  /** Prints the final state once more (plain) and releases the terminal (bars). */
  finish(rows: DefinitionProgress[], estimates: Map<number, Estimate>): void;
}

function payload(p: DefinitionProgress, e: Estimate | undefined) {
  return {
    name: p.name,
    failed: formatCount(p.failed),
    running: formatCount(p.running),
    bars: formatCount(p.bars),
    rate: formatCount(e?.rate ?? 0),
    etaText: p.queued + p.running === 0 ? "done" : formatDuration(e?.etaSeconds),
  };
}

export function plainLine(p: DefinitionProgress, e: Estimate | undefined, elapsedMs: number): string {
  const x = payload(p, e);
  return `progress [${formatDuration(elapsedMs / 1000)}] ${p.name} (${p.kind}, ${p.timeframe}): ` +
    `${p.done}/${p.total} slices done, ${x.failed} failed, ${x.running} running | ${x.bars} bars | ` +
    `${x.rate} bars/s | ETA ${x.etaText}`;
}

class PlainView implements ProgressView {
  private lastPrinted = 0;
  private lastText = "";
  private readonly started = Date.now();

  constructor(private readonly out: Output, private readonly intervalMs: number) {}

  update(rows: DefinitionProgress[], estimates: Map<number, Estimate>): void {
    if (Date.now() - this.lastPrinted < this.intervalMs) return;
    this.print(rows, estimates);
  }

  finish(rows: DefinitionProgress[], estimates: Map<number, Estimate>): void {
    this.print(rows, estimates);
  }

  private print(rows: DefinitionProgress[], estimates: Map<number, Estimate>): void {
    const elapsed = Date.now() - this.started;
    const text = rows.map((p) => plainLine(p, estimates.get(p.id), elapsed)).join("\n");
    // The same progress again, only later, says nothing new.
    const withoutTime = text.replace(/^progress \[[^\]]*\]/gm, "");
    if (withoutTime === this.lastText) return;
    this.lastText = withoutTime;
    this.lastPrinted = Date.now();
    this.out.line(text);
  }
}

class BarsView implements ProgressView {
  private readonly multibar: cliProgress.MultiBar;
  private readonly bars = new Map<number, cliProgress.SingleBar>();
  private nameWidth = 0;

  constructor(private readonly out: Output) {
    this.multibar = new cliProgress.MultiBar({
      stream: process.stdout,
      // Fits 80 columns with a 10-character name: compact numbers, a short bar.
      format: `{name} {bar} {value}/{total} slices, {failed} failed | {barsShort} bars, {rateShort}/s | ETA {etaText}`,
      barsize: 14,
      hideCursor: true,
      gracefulExit: false,
      autopadding: true,
      emptyOnZero: true,
      clearOnComplete: false,
    }, cliProgress.Presets.shades_classic);
    out.divert((text) => this.multibar.log(text));
  }

  update(rows: DefinitionProgress[], estimates: Map<number, Estimate>): void {
    this.nameWidth = Math.max(this.nameWidth, ...rows.map((r) => r.name.length));
    for (const p of rows) {
      const e = estimates.get(p.id);
      const x = {
        ...payload(p, e),
        name: p.name.padEnd(this.nameWidth),
        barsShort: formatCompact(p.bars),
        rateShort: formatCompact(e?.rate ?? 0),
      };
      const bar = this.bars.get(p.id);
      if (!bar) this.bars.set(p.id, this.multibar.create(p.total, p.done, x));
      else {
        bar.setTotal(p.total);
        bar.update(p.done, x);
      }
    }
  }

  finish(rows: DefinitionProgress[], estimates: Map<number, Estimate>): void {
    this.update(rows, estimates);
    this.multibar.stop();
    this.out.divert(undefined);
  }
}

export function createProgressView(out: Output, opts: { tty: boolean; intervalMs: number }): ProgressView {
  return opts.tty ? new BarsView(out) : new PlainView(out, opts.intervalMs);
}
