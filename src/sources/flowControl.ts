/**
 * Backpressure for a push-based stream. RxJS pushes; a worker that trains slower than the file parses would
 * let batches pile up in memory. The consumer `acquire()`s a slot for each batch it hands to a worker and
 * `release()`s it when the worker answers; the source awaits `ready()` before reading on while all slots are
 * taken. Memory in flight is then bounded by `limit` batches plus the shuffle window, whatever the file size.
 */
export class FlowControl {
  private inFlight = 0;
  private waiters: Array<() => void> = [];

  constructor(readonly limit: number) {
    if (!(limit >= 1)) throw new RangeError(`flow limit must be >= 1, got ${limit}`);
  }

  get blocked(): boolean {
    return this.inFlight >= this.limit;
  }

  get pending(): number {
    return this.inFlight;
  }

  acquire(): void {
    this.inFlight++;
  }

  release(): void {
    this.inFlight = Math.max(0, this.inFlight - 1);
    if (!this.blocked) this.wake();
  }

  /** Resolves at once when a slot is free, else when one frees up. */
  ready(): Promise<void> {
    if (!this.blocked) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** Lets every waiting source go on (used when a run stops). */
  wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }
}
