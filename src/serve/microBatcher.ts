import { AeflowError } from '../errors.js';

/** One kind of work on rows (encode, score…): how a batch is run, and the part of its answer for some rows. */
export interface BatchKind<R> {
  readonly name: string;
  /** Runs a batch of rows × cols in `x` (shared memory that is reused once this resolves). */
  run(x: Float32Array, rows: number): Promise<R>;
  /** The answer for rows [start, end) of a batch, out of the batch's answer. */
  slice(result: R, start: number, end: number): R;
}

export interface BatchingOptions {
  /** Rows per batch at most; a request with more rows is a batch of its own. */
  readonly maxRows: number;
  /** How long the first request in a queue waits for others to share its batch. */
  readonly maxDelayMs: number;
  /** Rows waiting at most; a request beyond is refused (SERVER_BUSY) rather than queued without bound. */
  readonly maxQueuedRows: number;
}

/** Where batches are packed: shared memory the workers read in place, given back once a batch is answered. */
export interface BatchMemory {
  allocate(length: number): Float32Array;
  release(x: Float32Array): void;
}

interface Waiting {
  readonly x: Float32Array;
  readonly rows: number;
  readonly since: number;
  resolve(result: unknown): void;
  reject(e: unknown): void;
}

interface Queue {
  readonly kind: BatchKind<unknown>;
  readonly waiting: Waiting[];
  rows: number;
}

/** How a batch went, for the server's log and its counters. */
export interface BatchReport {
  readonly kind: string;
  readonly requests: number;
  readonly rows: number;
  readonly error?: unknown;
}

/**
 * Micro-batching, as TF Serving does it: concurrent requests' rows share one batch, up to `maxRows` and after
 * at most `maxDelayMs`, so that many small requests make few large matrix products. At most `slots` batches are
 * in the workers at a time; while they are all taken, rows wait and the next batch is the larger for it.
 */
export class MicroBatcher {
  private readonly queues = new Map<BatchKind<unknown>, Queue>();
  private inFlight = 0;
  private queuedRows = 0;
  private timer: NodeJS.Timeout | null = null;
  /** Batches answered and the rows in them. */
  readonly done = { batches: 0, rows: 0 };

  constructor(
    private readonly cols: number,
    private readonly slots: number,
    private readonly options: BatchingOptions,
    private readonly memory: BatchMemory,
    private readonly report: (r: BatchReport) => void = () => undefined,
  ) {}

  /** The answer for `rows` rows × cols in `x`, once the batch they join is run. */
  submit<R>(kind: BatchKind<R>, x: Float32Array, rows: number): Promise<R> {
    if (this.queuedRows > 0 && this.queuedRows + rows > this.options.maxQueuedRows) {
      return Promise.reject(
        new AeflowError('SERVER_BUSY', `${this.queuedRows} rows are already waiting for the model`, 'retry shortly, or start the server with more --workers'),
      );
    }
    return new Promise<R>((resolve, reject) => {
      const q = this.queueOf(kind as BatchKind<unknown>);
      q.waiting.push({ x, rows, since: performance.now(), resolve: resolve as (r: unknown) => void, reject });
      q.rows += rows;
      this.queuedRows += rows;
      this.pump();
    });
  }

  get batchesInFlight(): number {
    return this.inFlight;
  }

  get rowsWaiting(): number {
    return this.queuedRows;
  }

  private queueOf(kind: BatchKind<unknown>): Queue {
    let q = this.queues.get(kind);
    if (!q) {
      q = { kind, waiting: [], rows: 0 };
      this.queues.set(kind, q);
    }
    return q;
  }

  /** Starts every batch that is due while there are free slots; else waits for the earliest to fall due. */
  private pump(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const now = performance.now();
    while (this.inFlight < this.slots) {
      const q = this.due(now);
      if (!q) break;
      this.start(q);
    }
    if (this.inFlight >= this.slots) return; // a batch that ends pumps again
    let wait = Number.POSITIVE_INFINITY;
    for (const q of this.queues.values()) if (q.waiting.length > 0) wait = Math.min(wait, q.waiting[0].since + this.options.maxDelayMs - now);
    if (wait < Number.POSITIVE_INFINITY) this.timer = setTimeout(() => this.pump(), Math.max(0, wait));
  }

  /** The queue whose batch is due (full, or its first request has waited long enough), the longest waiting first. */
  private due(now: number): Queue | null {
    let best: Queue | null = null;
    for (const q of this.queues.values()) {
      if (q.waiting.length === 0) continue;
      const ready = q.rows >= this.options.maxRows || now - q.waiting[0].since >= this.options.maxDelayMs;
      if (ready && (!best || q.waiting[0].since < best.waiting[0].since)) best = q;
    }
    return best;
  }

  private start(q: Queue): void {
    const taken: Waiting[] = [];
    let rows = 0;
    while (q.waiting.length > 0 && (taken.length === 0 || rows + q.waiting[0].rows <= this.options.maxRows)) {
      const w = q.waiting.shift() as Waiting;
      taken.push(w);
      rows += w.rows;
    }
    q.rows -= rows;
    this.queuedRows -= rows;
    const x = this.memory.allocate(rows * this.cols);
    let at = 0;
    for (const w of taken) {
      x.set(w.x.subarray(0, w.rows * this.cols), at * this.cols);
      at += w.rows;
    }
    this.inFlight++;
    void this.run(q.kind, x, rows, taken);
  }

  /** Runs a batch; its slot is free again before its requests are answered, so the next batch starts at once. */
  private async run(kind: BatchKind<unknown>, x: Float32Array, rows: number, taken: Waiting[]): Promise<void> {
    let result: unknown;
    let error: unknown = null;
    try {
      result = await kind.run(x, rows);
    } catch (e) {
      error = e;
    }
    this.memory.release(x);
    this.inFlight--;
    let at = 0;
    for (const w of taken) {
      if (error === null) w.resolve(kind.slice(result, at, at + w.rows));
      else w.reject(error);
      at += w.rows;
    }
    if (error === null) {
      this.done.batches++;
      this.done.rows += rows;
    }
    this.report({ kind: kind.name, requests: taken.length, rows, ...(error === null ? {} : { error }) });
    this.pump();
  }
}
