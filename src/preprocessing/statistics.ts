/**
 * Per-column statistics of a stream of values, in one pass and constant memory: count, mean and the sum of
 * squared deviations by Welford's method (stable where the naive Σx² − n·mean² cancels), minimum, maximum, and
 * how many values were missing (NaN). Two summaries of disjoint parts merge exactly as if one had seen both
 * (Chan, Golub and LeVeque's pairwise update).
 *
 * @example
 * const s = new ColumnStatistics(3);
 * for (const row of rows) s.add(row);
 * s.mean(0); s.std(0);
 */
export class ColumnStatistics {
  readonly count: Float64Array;
  readonly means: Float64Array;
  /** Σ (x − mean)² per column. */
  readonly m2: Float64Array;
  readonly min: Float64Array;
  readonly max: Float64Array;
  readonly missing: Float64Array;
  /** Rows seen, with or without missing values. */
  rows = 0;

  constructor(readonly columns: number) {
    this.count = new Float64Array(columns);
    this.means = new Float64Array(columns);
    this.m2 = new Float64Array(columns);
    this.min = new Float64Array(columns).fill(Number.POSITIVE_INFINITY);
    this.max = new Float64Array(columns).fill(Number.NEGATIVE_INFINITY);
    this.missing = new Float64Array(columns);
  }

  /** One row of `columns` values; NaN counts as missing and takes no part in the moments. */
  add(values: ArrayLike<number>): void {
    this.rows++;
    for (let j = 0; j < this.columns; j++) {
      const v = values[j];
      if (Number.isNaN(v)) {
        this.missing[j]++;
        continue;
      }
      const n = ++this.count[j];
      const delta = v - this.means[j];
      this.means[j] += delta / n;
      this.m2[j] += delta * (v - this.means[j]);
      if (v < this.min[j]) this.min[j] = v;
      if (v > this.max[j]) this.max[j] = v;
    }
  }

  /** Adds another summary of the same columns, as if its values had been added here. */
  merge(other: ColumnStatistics): void {
    if (other.columns !== this.columns) throw new RangeError(`merging statistics of ${other.columns} columns into ${this.columns}`);
    this.rows += other.rows;
    for (let j = 0; j < this.columns; j++) {
      const na = this.count[j];
      const nb = other.count[j];
      this.missing[j] += other.missing[j];
      if (nb === 0) continue;
      const n = na + nb;
      const delta = other.means[j] - this.means[j];
      this.means[j] += (delta * nb) / n;
      this.m2[j] += other.m2[j] + (delta * delta * na * nb) / n;
      this.count[j] = n;
      this.min[j] = Math.min(this.min[j], other.min[j]);
      this.max[j] = Math.max(this.max[j], other.max[j]);
    }
  }

  mean(j: number): number {
    return this.count[j] > 0 ? this.means[j] : Number.NaN;
  }

  /** The population standard deviation (divided by n, as scikit-learn's StandardScaler). */
  std(j: number): number {
    return this.count[j] > 0 ? Math.sqrt(this.m2[j] / this.count[j]) : Number.NaN;
  }
}
