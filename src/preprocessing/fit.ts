import { lastValueFrom, reduce } from 'rxjs';
import type { Row, RowOrigin } from '../rows.js';
import { type FitOptions, Preprocessing } from './preprocessing.js';
import { ColumnStatistics } from './statistics.js';
import { ValueCounts } from './vocabulary.js';

/** What a statistics pass collects: per-column moments, and the categorical columns' value counts. */
interface Collected {
  origin: RowOrigin | null;
  stats: ColumnStatistics | null;
  counts: Array<ValueCounts | null>;
}

/**
 * Fits the preprocessing from one pass over raw rows (the training split, before any normalization): the
 * columns' statistics by Welford's method and the categorical columns' value counts, in memory set by the
 * column count. The feature names come from the header (or `column N`).
 */
export async function fitPreprocessing(rows$: import('rxjs').Observable<Row>, options: FitOptions): Promise<Preprocessing> {
  const collected = await lastValueFrom(rows$.pipe(reduce(collect, { origin: null, stats: null, counts: [] } as Collected)));
  const { origin, stats, counts } = collected;
  if (!origin || !stats) throw new Error('no rows to fit the preprocessing on');
  const names = origin.featureColumns.map((c) => origin.header?.[c] ?? `column ${c + 1}`);
  const kinds = origin.featureColumns.map((_, j) => (origin.categories?.[j] ? 'categorical' : 'numeric') as 'categorical' | 'numeric');
  return Preprocessing.fit(
    names,
    origin.featureColumns.map((c) => c + 1),
    kinds,
    stats,
    counts,
    options,
  );
}

function collect(acc: Collected, row: Row): Collected {
  if (!acc.stats) {
    acc.origin = row.origin;
    acc.stats = new ColumnStatistics(row.x.length);
    acc.counts = row.x.length ? Array.from(row.x, (_, j) => (row.origin.categories?.[j] ? new ValueCounts() : null)) : [];
  }
  acc.stats.add(row.x);
  const names = row.origin.categories;
  if (names) for (let j = 0; j < acc.counts.length; j++) acc.counts[j]?.add((names[j] as string[])[row.x[j]]);
  return acc;
}
