/** Distinct values a column's counts keep at most; values first seen after that count as "other". */
export const MAX_COUNTED = 100_000;

/**
 * Counts a categorical column's values as they stream by, in bounded memory: exact for every column with at most
 * MAX_COUNTED distinct values (the categories one-hot encoding is meant for); beyond that, values first seen
 * after the bound count toward "other".
 */
export class ValueCounts {
  private readonly counts = new Map<string, number>();
  overflow = 0;

  add(value: string): void {
    const n = this.counts.get(value);
    if (n !== undefined) this.counts.set(value, n + 1);
    else if (this.counts.size < MAX_COUNTED) this.counts.set(value, 1);
    else this.overflow++;
  }

  /** The `k` most frequent values, most frequent first (ties by value, so the order is stable). */
  top(k: number): string[] {
    return [...this.counts.entries()]
      .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
      .slice(0, k)
      .map(([v]) => v);
  }

  get distinct(): number {
    return this.counts.size;
  }
}

/**
 * A fitted vocabulary: the kept values in order, each one-hot column's index, and "other" last for every value
 * not kept (one seen too rarely, or never seen while fitting).
 */
export class Vocabulary {
  private readonly index: Map<string, number>;

  constructor(readonly values: readonly string[]) {
    this.index = new Map(values.map((v, i) => [v, i]));
  }

  /** One-hot columns: each kept value, then "other". */
  get width(): number {
    return this.values.length + 1;
  }

  /** The one-hot column of a value: its index, or the last ("other") for a value not kept. */
  columnOf(value: string): number {
    return this.index.get(value) ?? this.values.length;
  }
}
