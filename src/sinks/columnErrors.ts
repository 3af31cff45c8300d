import type { Preprocessing } from '../preprocessing/preprocessing.js';
import type { Snapshot } from '../types.js';

/** How well one input column of a table is reconstructed, over the rows of a snapshot. */
export interface ColumnError {
  readonly name: string;
  readonly kind: 'numeric' | 'categorical';
  /** 0.5·mean squared error over the column's features (one-hot and indicator features included), in model units. */
  readonly error: number;
  /** Numeric: the root-mean-square error in the column's own units (rows with the value present). */
  readonly rmse?: number;
  /** Categorical: the share of rows whose strongest reconstructed category is not theirs. */
  readonly mismatch?: number;
}

/** A few rows in the CSV's terms: what the row held, and what the model gave back. */
export interface ExampleRow {
  readonly original: Array<number | string | null>;
  readonly reconstructed: Array<number | string | null>;
}

/** snapshots/epoch-NNN.json and columns.json of a tabular run: the per-column view of a snapshot. */
export interface TableSnapshot {
  readonly epoch: number;
  readonly phase: string;
  readonly rows: number;
  readonly columns: ColumnError[];
  readonly examples: ExampleRow[];
}

/** The per-column errors of a snapshot's rows, and its first `examples` rows decoded, for a table's report. */
export function tableSnapshot(s: Snapshot, p: Preprocessing, examples = 5): TableSnapshot {
  const truths = s.targets.map((t) => p.decode(t, true));
  const backs = s.reconstructions.map((y) => p.decode(y, false));
  const columns = p.json.columns.map((c, j): ColumnError => {
    const start = p.offset(j);
    const end = p.end(j);
    let sum = 0;
    let squared = 0;
    let present = 0;
    let wrong = 0;
    s.targets.forEach((target, r) => {
      const y = s.reconstructions[r];
      for (let f = start; f < end; f++) sum += 0.5 * (y[f] - target[f]) ** 2;
      const truth = truths[r][j];
      const back = backs[r][j];
      if (c.kind === 'categorical') wrong += truth === back ? 0 : 1;
      else if (truth !== null) {
        squared += ((back as number) - (truth as number)) ** 2;
        present++;
      }
    });
    const n = s.targets.length;
    const error = sum / (n * (end - start));
    if (c.kind === 'categorical') return { name: c.name, kind: c.kind, error, mismatch: wrong / n };
    return { name: c.name, kind: c.kind, error, rmse: present > 0 ? Math.sqrt(squared / present) : Number.NaN };
  });
  // float32 features carry about seven significant digits back to the column's units: no more are shown.
  const round = (values: Array<number | string | null>) => values.map((v) => (typeof v === 'number' ? Number(v.toPrecision(7)) : v));
  const shown = truths.slice(0, examples).map((original, r) => ({ original: round(original), reconstructed: round(backs[r]) }));
  return { epoch: s.epoch, phase: s.phase, rows: s.targets.length, columns, examples: shown };
}
