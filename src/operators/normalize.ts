import { Observable, type OperatorFunction } from 'rxjs';
import { AeflowError, at } from '../errors.js';
import { columnName, columnOf, type Row } from '../rows.js';
import type { BadRows } from '../sources/badRows.js';

/**
 * Scales raw values to [0, 1] by dividing by `scale` (255 for 8-bit pixels), after checking that every value
 * lies in [0, scale]. A value outside that range is an error naming file, line and column: pixel data outside
 * its range means the file is not what the pipeline says, and training on it would silently go wrong.
 * With `scale: null` rows pass unchanged.
 *
 * @example
 * rows$.pipe(normalize(255)) // 0..255 -> 0..1
 *
 * @param scale the largest valid raw value, or null to pass values through
 * @param badRows under `on_bad_row: skip`, where rows with an out-of-range value are counted (and dropped)
 * @param options.inPlace scale each row's own array instead of a copy: only for a source whose rows' arrays
 *   nothing else holds (aeflow's readers); saves one allocation per row, and the garbage collection it causes
 */
export function normalize(scale: number | null, badRows?: BadRows, options: { inPlace?: boolean } = {}): OperatorFunction<Row, Row> {
  return (source) =>
    new Observable<Row>((subscriber) => {
      if (scale === null) return source.subscribe(subscriber);
      const inv = 1 / scale;
      return source.subscribe({
        next(row) {
          const x = row.x;
          // In place, a bad row is left half scaled: it is dropped or ends the run either way.
          const out = options.inPlace ? x : new Float32Array(x.length);
          const i = scaleRow(x, out, scale, inv);
          if (i >= 0) {
            const v = x[i];
            const error = new AeflowError(
              'CSV_VALUE_OUT_OF_RANGE',
              `${at(row.origin.file, row.line, columnOf(row.origin, i))}: ${columnName(row.origin, i)} holds ${v}, ` + `expected a value from 0 to ${scale}`,
              `the pipeline's data.scale is ${scale}; fix the value, or set data.scale to match the data (null: no scaling)`,
            );
            if (badRows) badRows.add(row.line, error);
            else subscriber.error(error);
            return;
          }
          subscriber.next({ ...row, x: out });
        },
        error: (e) => subscriber.error(e),
        complete: () => subscriber.complete(),
      });
    });
}

/**
 * out = x·inv while the values of x are in [0, scale]: -1 when all were, else the index of the first that was
 * not (the values from there on are left as they were). A small function of its own, so the JIT makes a tight
 * loop of it (inside `next`, the loop ran ~2x slower).
 */
function scaleRow(x: Float32Array, out: Float32Array, scale: number, inv: number): number {
  const n = x.length;
  for (let i = 0; i < n; i++) {
    const v = x[i];
    if (!(v >= 0 && v <= scale)) return i;
    out[i] = v * inv;
  }
  return -1;
}
