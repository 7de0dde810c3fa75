/**
 * One figure = one or more metrics, each measured side by side with its
 * baseline in the same run. The ratio is the median of per-round ratios when
 * the rounds were paired (baseline and ours interleaved), else the ratio of
 * medians: on a noisy machine, ratios from one run are what is comparable.
 */
import { fmt, median } from "./stats.ts";

export type Comparator = ">=" | "<=" | "<" | ">";

export interface Target {
  /** What the target constrains: the value itself or the ratio to the baseline. */
  on: "value" | "ratio";
  op: Comparator;
  x: number;
  /** Human text, e.g. "≥ 9,000 bars/request"; derived when absent. */
  text?: string;
}

export interface Metric {
  figure: number;
  name: string;
  value: number;
  unit: string;
  baseline_name: string | null;
  baseline_value: number | null;
  ratio: number | null;
  target: string | null;
  met: boolean | null;
  /** Per-round values behind the medians (ours, then the baseline's). */
  samples?: number[];
  baseline_samples?: number[];
  note?: string;
}

export interface MetricInput {
  figure: number;
  name: string;
  unit: string;
  values: number[];
  baselineName?: string;
  baselineValues?: number[];
  /** Overrides the computed ratio (e.g. against a constant such as a platform limit). */
  ratio?: number;
  target?: Target;
  note?: string;
}

const OP_TEXT: Record<Comparator, string> = { ">=": "≥", "<=": "≤", "<": "<", ">": ">" };

function holds(v: number, op: Comparator, x: number): boolean {
  switch (op) {
    case ">=": return v >= x;
    case "<=": return v <= x;
    case "<": return v < x;
    case ">": return v > x;
  }
}

export function metric(m: MetricInput): Metric {
  const value = median(m.values);
  const base = m.baselineValues && m.baselineValues.length > 0 ? median(m.baselineValues) : null;
  let ratio: number | null = m.ratio ?? null;
  if (ratio === null && base !== null && base !== 0) {
    const paired = m.baselineValues!.length === m.values.length && m.values.length > 1;
    ratio = paired ? median(m.values.map((v, i) => v / m.baselineValues![i]!)) : value / base;
  }
  let target: string | null = null;
  let met: boolean | null = null;
  if (m.target) {
    const t = m.target;
    target = t.text ?? (t.on === "ratio" ? `ratio ${OP_TEXT[t.op]} ${t.x}` : `${OP_TEXT[t.op]} ${fmt(t.x)} ${m.unit}`);
    const subject = t.on === "ratio" ? ratio : value;
    met = subject === null || !Number.isFinite(subject) ? false : holds(subject, t.op, t.x);
  }
  return {
    figure: m.figure,
    name: m.name,
    value,
    unit: m.unit,
    baseline_name: m.baselineName ?? null,
    baseline_value: base,
    ratio,
    target,
    met,
    samples: m.values,
    ...(m.baselineValues ? { baseline_samples: m.baselineValues } : {}),
    ...(m.note ? { note: m.note } : {}),
  };
}

export interface LimitMetricInput extends Omit<MetricInput, "baselineName" | "baselineValues" | "ratio"> {
  /** A fixed number the values are measured against (a platform limit, a theoretical ceiling), not a measured baseline. */
  limitName: string;
  limit: number;
}

/**
 * A metric against a fixed limit. The limit stands as the baseline once per
 * round, so the rounds count as paired and the ratio is the median of the
 * per-round ratios, as for a baseline measured round by round.
 */
export function limitMetric({ limitName, limit, ...m }: LimitMetricInput): Metric {
  return metric({ ...m, baselineName: limitName, baselineValues: m.values.map(() => limit) });
}

function pad(s: string, n: number, right = false): string {
  return right ? s.padStart(n) : s.padEnd(n);
}

/** A fixed-width table: figure, metric, value, baseline, ratio, target, met. */
export function formatTable(metrics: readonly Metric[]): string {
  const rows = metrics.map((m) => [
    String(m.figure),
    m.name,
    `${fmt(m.value)} ${m.unit}`,
    m.baseline_name === null ? "–" : `${m.baseline_name}: ${fmt(m.baseline_value)}`,
    m.ratio === null ? "–" : `${fmt(m.ratio)}×`,
    m.target ?? "–",
    m.met === null ? "" : m.met ? "yes" : "NO",
  ]);
  const head = ["#", "metric", "value (median)", "baseline (median)", "ratio", "target", "met"];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (r: string[]) => r.map((c, i) => pad(c, widths[i]!, i === 4)).join("  ");
  return [line(head), widths.map((w) => "-".repeat(w)).join("  "), ...rows.map(line)].join("\n");
}
