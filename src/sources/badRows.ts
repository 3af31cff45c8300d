import type { AeflowError } from '../errors.js';
import type { SkippedRows } from '../types.js';

export type { SkippedRows } from '../types.js';

const KEEP_LINES = 10;

/**
 * Counts the rows a pass skips, so nothing is dropped without a trace: the run reports the count and the first
 * lines on the console and in summary.json.
 */
export class BadRows {
  readonly skipped: SkippedRows = { count: 0, lines: [], first: null };

  add(line: number, error: AeflowError): void {
    this.note(1, [line], error.message);
  }

  /** Adds what an earlier pass over the same file skipped (its rows are not in the row cache). */
  merge(other: SkippedRows): void {
    if (other.count > 0) this.note(other.count, other.lines, other.first);
  }

  private note(count: number, lines: number[], message: string | null): void {
    const s = this.skipped;
    if (message !== null && (s.lines.length === 0 || lines[0] < s.lines[0])) s.first = message;
    s.count += count;
    s.lines = [...s.lines, ...lines].sort((a, b) => a - b).slice(0, KEEP_LINES);
  }
}

/**
 * The one report of skipped rows, for the console of every command: `skipped 3 bad train rows (on_bad_row:
 * skip), at lines 3, 4, 6; the first: …`, or `skipped 1 bad row (…), at line 30: …`. `split` names the pass
 * (train, test) when a command reads more than one file.
 */
export function skippedMessage(s: SkippedRows, split?: string): string {
  const rows = `${s.count} bad ${split ? `${split} ` : ''}row${s.count === 1 ? '' : 's'}`;
  const lines = `line${s.lines.length === 1 ? '' : 's'} ${s.lines.join(', ')}${s.count > s.lines.length ? ', …' : ''}`;
  const first = s.first === null ? '' : s.count === 1 ? `: ${s.first}` : `; the first: ${s.first}`;
  return `skipped ${rows} (on_bad_row: skip), at ${lines}${first}`;
}
