/**
 * The coverage heatmap's model, pure: a grid of symbols × days (bars stored,
 * bars the calendar allows, and whether the day still lies in an unfinished
 * slice), folded into at most MAX_ROWS rows and MAX_COLUMNS columns, each cell
 * given one state. No I/O and no HTML here (render.ts draws it).
 */
import { formatDay, parseDay, weekday } from "../lib/market-calendar/index.ts";

/** A year of trading days still shows one column per day. */
export const MAX_COLUMNS = 260;
/** More symbols than this are shown as groups of neighbouring symbols (alphabetical). */
export const MAX_ROWS = 1000;

export interface CoverageGrid {
  symbols: string[];
  /** New York days, ascending: those the calendar expects bars on, and any other day that has bars. */
  days: string[];
  /** symbols.length × days.length, row-major (symbol, then day). */
  expected: Int32Array;
  stored: Int32Array;
  /** 1 where the day lies in a slice of the symbol's definition that is queued or running. */
  pending: Uint8Array;
}

export function emptyGrid(symbols: string[], days: string[]): CoverageGrid {
  const n = symbols.length * days.length;
  return { symbols, days, expected: new Int32Array(n), stored: new Int32Array(n), pending: new Uint8Array(n) };
}

/**
 * hole: a day the calendar expects bars on has none, and no slice that would fetch it is queued or running;
 * extra: more bars than the calendar allows (a non-trading day with bars included);
 * pending: nothing stored yet, and its slice is queued or running;
 * q1…q4: bars stored as a share of the calendar's most (<25 %, <50 %, <75 %, ≥75 %);
 * empty: nothing expected and nothing stored (a symbol outside its definition's range).
 */
export type CellState = "hole" | "extra" | "pending" | "q1" | "q2" | "q3" | "q4" | "empty";

export interface Cell {
  state: CellState;
  stored: number;
  /** The calendar's most, over the cell's symbol-days that are not pending. */
  expected: number;
  holes: number;
  extras: number;
  pending: number;
  /** Symbol-days the calendar expects bars on. */
  tradingDays: number;
}

export interface Band {
  /** What the band shows: a symbol or a day, or the first–last of a group. */
  label: string;
  first: string;
  last: string;
  /** [from, to) into the grid's symbols or days. */
  from: number;
  to: number;
}

export type ColumnUnit = "day" | "week" | "month";

export interface Heatmap {
  rows: Band[];
  columns: Band[];
  columnUnit: ColumnUnit;
  /** Symbols per row (1 unless there are more than MAX_ROWS symbols). */
  symbolsPerRow: number;
  /** rows.length × columns.length, row-major. */
  cells: Cell[];
  totals: Omit<Cell, "state">;
}

/** The Monday of a day's week, or the first of its month: the key a column groups days by. */
function columnKey(day: string, unit: ColumnUnit): string {
  if (unit === "day") return day;
  if (unit === "month") return `${day.slice(0, 7)}`;
  const n = parseDay(day)!;
  return formatDay(n - ((weekday(n) + 6) % 7));
}

function chooseUnit(days: string[]): ColumnUnit {
  if (days.length <= MAX_COLUMNS) return "day";
  const weeks = new Set(days.map((d) => columnKey(d, "week"))).size;
  return weeks <= MAX_COLUMNS ? "week" : "month";
}

function columnBands(days: string[], unit: ColumnUnit): Band[] {
  const bands: Band[] = [];
  for (let i = 0; i < days.length; i++) {
    const key = columnKey(days[i]!, unit);
    const last = bands[bands.length - 1];
    if (last && columnKey(last.first, unit) === key) {
      last.to = i + 1;
      last.last = days[i]!;
    } else {
      bands.push({ label: unit === "week" ? `week of ${key}` : key, first: days[i]!, last: days[i]!, from: i, to: i + 1 });
    }
  }
  return bands;
}

function rowBands(symbols: string[], atLeast: number): { bands: Band[]; perRow: number } {
  const perRow = Math.max(1, atLeast, Math.ceil(symbols.length / MAX_ROWS));
  const bands: Band[] = [];
  for (let from = 0; from < symbols.length; from += perRow) {
    const to = Math.min(symbols.length, from + perRow);
    const [first, last] = [symbols[from]!, symbols[to - 1]!];
    bands.push({ label: to - from === 1 ? first : `${first}…${last} (${to - from})`, first, last, from, to });
  }
  return { bands, perRow };
}

function stateOf(c: Omit<Cell, "state">): CellState {
  if (c.holes > 0) return "hole";
  if (c.extras > 0) return "extra";
  if (c.expected === 0) return c.pending > 0 ? "pending" : "empty";
  const share = c.stored / c.expected;
  return share >= 0.75 ? "q4" : share >= 0.5 ? "q3" : share >= 0.25 ? "q2" : "q1";
}

/**
 * The grid folded to rows and columns, every cell with its state. Rows hold
 * `symbolsPerRow` symbols or more (more when there are over MAX_ROWS symbols).
 */
export function buildHeatmap(grid: CoverageGrid, symbolsPerRow = 1): Heatmap {
  const columnUnit = chooseUnit(grid.days);
  const columns = columnBands(grid.days, columnUnit);
  const { bands: rows, perRow } = rowBands(grid.symbols, symbolsPerRow);
  const width = grid.days.length;
  const totals = { stored: 0, expected: 0, holes: 0, extras: 0, pending: 0, tradingDays: 0 };
  const cells: Cell[] = [];
  for (const row of rows) {
    for (const col of columns) {
      const c = { stored: 0, expected: 0, holes: 0, extras: 0, pending: 0, tradingDays: 0 };
      for (let s = row.from; s < row.to; s++) {
        for (let d = col.from; d < col.to; d++) {
          const i = s * width + d;
          const [e, n, p] = [grid.expected[i]!, grid.stored[i]!, grid.pending[i]!];
          c.stored += n;
          if (e > 0) c.tradingDays++;
          if (n > e) c.extras++;
          else if (p && n === 0) c.pending++;
          else if (e > 0 && n === 0) c.holes++;
          if (!(p && n === 0)) c.expected += e;
        }
      }
      for (const k of Object.keys(totals) as (keyof typeof totals)[]) totals[k] += c[k];
      cells.push({ state: stateOf(c), ...c });
    }
  }
  return { rows, columns, columnUnit, symbolsPerRow: perRow, cells, totals };
}
