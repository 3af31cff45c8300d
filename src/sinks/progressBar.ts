/**
 * A one-line progress bar on a terminal: fraction done, rows, rows/s, ETA and the running loss. Redrawn at
 * most ten times a second; on a non-terminal (CI logs, pipes) it draws nothing, the epoch lines say enough.
 */
export class ProgressBar {
  private lastDraw = 0;
  private drawn = false;
  private label = '';
  private since = 0;

  constructor(private readonly stream: NodeJS.WriteStream = process.stderr) {}

  get enabled(): boolean {
    return Boolean(this.stream.isTTY);
  }

  /** Draws the bar; without `rowsPerS` the rate is counted from when this label first showed, without `loss` none is shown. */
  update(state: { label: string; fraction: number; rows: number; rowsPerS?: number; loss?: number }): void {
    if (!this.enabled) return;
    const now = Date.now();
    if (state.label !== this.label) {
      this.label = state.label;
      this.since = now;
    }
    const rowsPerS = state.rowsPerS ?? state.rows / Math.max(1e-3, (now - this.since) / 1000);
    if (now - this.lastDraw < 100) return;
    this.lastDraw = now;
    const width = 24;
    const f = Math.min(1, Math.max(0, state.fraction));
    const filled = Math.round(f * width);
    const eta = f > 0 && rowsPerS > 0 ? (state.rows / f - state.rows) / rowsPerS : Number.NaN;
    const line =
      `${state.label} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${(100 * f).toFixed(0).padStart(3)}% ` +
      `${state.rows.toLocaleString('en-US')} rows ${Math.round(rowsPerS).toLocaleString('en-US')} rows/s ` +
      `ETA ${formatSeconds(eta)}${state.loss === undefined ? '' : ` loss ${Number.isFinite(state.loss) ? state.loss.toFixed(5) : '-'}`}`;
    this.stream.write(`\r${line.slice(0, (this.stream.columns ?? 120) - 1)}\x1b[K`);
    this.drawn = true;
  }

  /** Clears the bar so the next line prints clean. */
  clear(): void {
    if (this.drawn && this.enabled) this.stream.write('\r\x1b[K');
    this.drawn = false;
  }
}

export function formatSeconds(s: number): string {
  if (!Number.isFinite(s)) return '--:--';
  const t = Math.round(s);
  return `${Math.floor(t / 60)}:${String(t % 60).padStart(2, '0')}`;
}
