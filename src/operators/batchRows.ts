import { Observable, type OperatorFunction } from 'rxjs';
import type { Batch, Row } from '../rows.js';

/**
 * Packs rows into batches of `size`, row-major in one Float32Array per batch so a batch can be transferred to
 * a worker without copying. The last batch is shorter when the row count is not a multiple of `size` (no row
 * is dropped). A batch carries clean targets when its rows carry them (denoising), and labels when the source
 * has a label column. Each row's values are copied into the batch as the row arrives, so rows may be views
 * that are reused once handled (the shuffle's window).
 *
 * @example
 * rows$.pipe(batchRows(256)) // Observable<Batch>, batch.rows === 256 except perhaps the last
 *
 * @param size rows per batch (>= 1)
 * @param allocate where a batch's values (and targets) go: fresh arrays by default; training passes memory it
 *   reuses once the batch is trained on (so a batch's arrays then belong to whoever allocated them). A short
 *   last batch is a view of the first values of what was allocated.
 */
export function batchRows(size: number, allocate: (length: number) => Float32Array = (n) => new Float32Array(n)): OperatorFunction<Row, Batch> {
  if (!Number.isInteger(size) || size < 1) throw new RangeError(`batch size must be an integer >= 1, got ${size}`);
  return (source) =>
    new Observable<Batch>((subscriber) => {
      let batch: Packing | null = null;
      const subscription = source.subscribe({
        next(row) {
          batch ??= new Packing(size, row.x.length, allocate);
          const error = batch.add(row);
          if (error) {
            subscriber.error(error);
            return;
          }
          if (batch.rows === size) {
            const full = batch.done();
            batch = null;
            subscriber.next(full);
          }
        },
        error: (e) => subscriber.error(e),
        complete() {
          if (batch && batch.rows > 0) subscriber.next(batch.done());
          batch = null;
          subscriber.complete();
        },
      });
      return () => {
        subscription.unsubscribe();
        batch = null;
      };
    });
}

/** One batch being filled, row by row. */
class Packing {
  rows = 0;
  private readonly x: Float32Array;
  private target: Float32Array | null = null;
  private labels: Float32Array | null = null;
  private readonly indices: Int32Array;
  private readonly lines: Int32Array;

  constructor(
    private readonly size: number,
    private readonly cols: number,
    private readonly allocate: (length: number) => Float32Array,
  ) {
    this.x = allocate(size * cols);
    this.indices = new Int32Array(size);
    this.lines = new Int32Array(size);
  }

  add(row: Row): Error | null {
    const { cols } = this;
    const r = this.rows;
    if (row.x.length !== cols) return new Error(`batchRows: row ${row.index} has ${row.x.length} values, expected ${cols}`);
    this.x.set(row.x, r * cols);
    if (row.target !== undefined && !this.target) {
      // The rows before this one had no target: theirs is their input.
      this.target = this.allocate(this.size * cols);
      this.target.set(this.x.subarray(0, r * cols));
    }
    if (this.target) this.target.set(row.target ?? row.x, r * cols);
    if (row.label !== null && !this.labels) this.labels = new Float32Array(this.size).fill(Number.NaN);
    if (this.labels) this.labels[r] = row.label ?? Number.NaN;
    this.indices[r] = row.index;
    this.lines[r] = row.line;
    this.rows++;
    return null;
  }

  done(): Batch {
    const n = this.rows;
    const cut = <A extends Float32Array | Int32Array>(a: A, per: number): A => (n === this.size ? a : (a.subarray(0, n * per) as A));
    return {
      rows: n,
      cols: this.cols,
      x: cut(this.x, this.cols),
      target: this.target && cut(this.target, this.cols),
      labels: this.labels && cut(this.labels, 1),
      indices: cut(this.indices, 1),
      lines: cut(this.lines, 1),
    };
  }
}
