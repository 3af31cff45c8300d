import { Observable, type OperatorFunction } from 'rxjs';
import type { Batch, Row } from '../rows.js';

/**
 * Packs rows into batches of `size`, row-major in one Float32Array per batch so a batch can be transferred to
 * a worker without copying. The last batch is shorter when the row count is not a multiple of `size` (no row
 * is dropped). A batch carries clean targets when its rows carry them (denoising), and labels when the source
 * has a label column.
 *
 * @example
 * rows$.pipe(batchRows(256)) // Observable<Batch>, batch.rows === 256 except perhaps the last
 *
 * @param size rows per batch (>= 1)
 * @param allocate where a batch's values (and targets) go: fresh arrays by default; training passes memory it
 *   reuses once the batch is trained on (so a batch's arrays then belong to whoever allocated them)
 */
export function batchRows(size: number, allocate: (length: number) => Float32Array = (n) => new Float32Array(n)): OperatorFunction<Row, Batch> {
  if (!Number.isInteger(size) || size < 1) throw new RangeError(`batch size must be an integer >= 1, got ${size}`);
  return (source) =>
    new Observable<Batch>((subscriber) => {
      let pending: Row[] = [];
      const flush = () => {
        if (pending.length === 0) return;
        const rows = pending;
        pending = [];
        subscriber.next(pack(rows, allocate));
      };
      const subscription = source.subscribe({
        next(row) {
          pending.push(row);
          if (pending.length === size) flush();
        },
        error: (e) => subscriber.error(e),
        complete() {
          flush();
          subscriber.complete();
        },
      });
      return () => {
        subscription.unsubscribe();
        pending = [];
      };
    });
}

function pack(rows: Row[], allocate: (length: number) => Float32Array): Batch {
  const cols = rows[0].x.length;
  const n = rows.length;
  const x = allocate(n * cols);
  const hasTarget = rows.some((r) => r.target !== undefined);
  const target = hasTarget ? allocate(n * cols) : null;
  const hasLabel = rows.some((r) => r.label !== null);
  const labels = hasLabel ? new Float32Array(n) : null;
  const indices = new Int32Array(n);
  const lines = new Int32Array(n);
  for (let r = 0; r < n; r++) {
    const row = rows[r];
    if (row.x.length !== cols) throw new Error(`batchRows: row ${row.index} has ${row.x.length} values, expected ${cols}`);
    x.set(row.x, r * cols);
    if (target) target.set(row.target ?? row.x, r * cols);
    if (labels) labels[r] = row.label ?? Number.NaN;
    indices[r] = row.index;
    lines[r] = row.line;
  }
  return { rows: n, cols, x, target, labels, indices, lines };
}
