import { Observable, type OperatorFunction } from 'rxjs';
import { AeflowError, at } from '../errors.js';
import type { Preprocessing } from '../preprocessing/preprocessing.js';
import { columnName, columnOf, type Row } from '../rows.js';
import type { BadRows } from '../sources/badRows.js';

/**
 * Turns raw rows (numbers, NaN where a value is missing, categorical columns' ids) into the model's features
 * with a fitted Preprocessing: per-column normalization, imputation, one-hot encoding. A row with a missing
 * value the preprocessing does not fill (data.missing: skip) is dropped and counted in `badRows`; without
 * `badRows` it is an error naming the place. Each row emitted is a view of one array reused for the next
 * (see `Row.x`).
 *
 * @example
 * rows$.pipe(preprocess(Preprocessing.fromJson(json), badRows))
 */
export function preprocess(p: Preprocessing, badRows?: BadRows): OperatorFunction<Row, Row> {
  return (source) =>
    new Observable<Row>((subscriber) => {
      const out = new Float32Array(p.width);
      return source.subscribe({
        next(row) {
          const x = row.x;
          const names = row.origin.categories;
          const missing = p.apply(x, (j) => names?.[j]?.[x[j]] ?? '', out);
          if (missing < 0) {
            subscriber.next({ ...row, x: out });
            return;
          }
          const error = new AeflowError(
            'CSV_VALUE_INVALID',
            `${at(row.origin.file, row.line, columnOf(row.origin, missing))}: ${columnName(row.origin, missing)} is empty, and data.missing is ${badRows ? 'skip' : 'error'}`,
            'fill the value, or set data.missing to mean or zero (or skip to drop such rows)',
          );
          if (badRows) badRows.add(row.line, error);
          else subscriber.error(error);
        },
        error: (e) => subscriber.error(e),
        complete: () => subscriber.complete(),
      });
    });
}
