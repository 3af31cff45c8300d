import { AeflowError } from '../errors.js';
import type { ColumnStatistics } from './statistics.js';
import { type ValueCounts, Vocabulary } from './vocabulary.js';

/** How a numeric column's values become features. */
export type Normalization = 'scale' | 'standard' | 'minmax' | 'none';
/** What a missing (empty) numeric value becomes. `error` and `skip` are the reader's: the row never gets here. */
export type MissingPolicy = 'error' | 'skip' | 'mean' | 'zero';

/** A numeric input column, fitted: feature = (value − shift) / scale, a missing value replaced by `fill`. */
export interface NumericColumn {
  readonly kind: 'numeric';
  /** The header's name for the column (`column N` without a header), and its 1-based number in the training CSV. */
  readonly name: string;
  readonly column: number;
  readonly shift: number;
  readonly scale: number;
  /** What a missing value becomes, in the column's own units (null: a missing value is an error). */
  readonly fill: number | null;
  /** Whether a 0/1 feature after this one says the value was missing. */
  readonly indicator: boolean;
}

/** A categorical input column, fitted: one-hot over its kept values and "other". */
export interface CategoricalColumn {
  readonly kind: 'categorical';
  readonly name: string;
  readonly column: number;
  readonly values: readonly string[];
}

export type FittedColumn = NumericColumn | CategoricalColumn;

/** preprocessing.json: what every consumer of a model applies to a CSV's rows before the model sees them. */
export interface PreprocessingJson {
  readonly format: 'aeflow-preprocessing';
  readonly version: 1;
  readonly normalize: Normalization;
  readonly missing: MissingPolicy;
  /** The input columns in feature order (numeric and categorical), as the CSV names them. */
  readonly columns: readonly FittedColumn[];
  /** The model's input features, in order: a numeric column's name (and `name?` for its indicator), `name=value` per category. */
  readonly features: readonly string[];
}

export interface FitOptions {
  readonly normalize: Normalization;
  /** The divisor of `scale` (data.scale). */
  readonly scale: number | null;
  readonly missing: MissingPolicy;
  readonly indicators: boolean;
  readonly maxCategories: number;
}

/**
 * The fitted preprocessing of a pipeline's input columns: per-column normalization from the training split's
 * statistics, imputation of missing values, and one-hot encoding of categorical columns over a bounded
 * vocabulary. Saved with the model as preprocessing.json, so that encode, score and evaluate turn new rows into
 * exactly what the model was trained on.
 */
export class Preprocessing {
  private readonly vocabularies: Array<Vocabulary | null>;
  /** Per input column, its first feature. */
  private readonly offsets: Int32Array;

  private constructor(readonly json: PreprocessingJson) {
    this.vocabularies = json.columns.map((c) => (c.kind === 'categorical' ? new Vocabulary(c.values) : null));
    this.offsets = new Int32Array(json.columns.length);
    let at = 0;
    json.columns.forEach((c, i) => {
      this.offsets[i] = at;
      at += c.kind === 'categorical' ? c.values.length + 1 : c.indicator ? 2 : 1;
    });
  }

  /**
   * Fits the columns (input column j: `names[j]`, 1-based CSV column `numbers[j]`) from the training split's
   * statistics and category counts.
   */
  static fit(
    names: readonly string[],
    numbers: readonly number[],
    kinds: ReadonlyArray<'numeric' | 'categorical'>,
    stats: ColumnStatistics,
    counts: ReadonlyArray<ValueCounts | null>,
    options: FitOptions,
  ): Preprocessing {
    const columns = names.map((name, j): FittedColumn => {
      const column = numbers[j];
      if (kinds[j] === 'categorical') return { kind: 'categorical', name, column, values: (counts[j] as ValueCounts).top(options.maxCategories) };
      const { shift, scale } = normalization(options, stats, j);
      const fill = options.missing === 'mean' ? stats.mean(j) : options.missing === 'zero' ? 0 : null;
      return { kind: 'numeric', name, column, shift, scale, fill: fill !== null && Number.isNaN(fill) ? 0 : fill, indicator: options.indicators };
    });
    return Preprocessing.fromJson({
      format: 'aeflow-preprocessing',
      version: 1,
      normalize: options.normalize,
      missing: options.missing,
      columns,
      features: featureNames(columns),
    });
  }

  /**
   * Plain numeric columns divided by `scale` (1 when null), as a pipeline without fitted preprocessing reads
   * them: what a table's report needs to name the columns and give values back in their units.
   */
  static identity(names: readonly string[], numbers: readonly number[], scale: number | null): Preprocessing {
    const columns = names.map(
      (name, j): FittedColumn => ({ kind: 'numeric', name, column: numbers[j], shift: 0, scale: scale ?? 1, fill: null, indicator: false }),
    );
    return Preprocessing.fromJson({
      format: 'aeflow-preprocessing',
      version: 1,
      normalize: 'scale',
      missing: 'error',
      columns,
      features: featureNames(columns),
    });
  }

  static fromJson(json: PreprocessingJson, source = 'preprocessing.json'): Preprocessing {
    if (json?.format !== 'aeflow-preprocessing' || json.version !== 1 || !Array.isArray(json.columns)) {
      throw new AeflowError(
        'MODEL_NOT_FOUND',
        `${source}: not an aeflow preprocessing file (version 1)`,
        'pass the model folder of a run written by this aeflow',
      );
    }
    return new Preprocessing(json);
  }

  /** The model's input width. */
  get width(): number {
    return this.json.features.length;
  }

  /**
   * Writes the features of one row into `out` (width floats). `values[j]` is input column j's value (NaN where
   * missing); for a categorical column, `categories(j)` gives its value as text. Returns -1, or the first input
   * column whose missing value has no fill (the caller reports it).
   */
  apply(values: ArrayLike<number>, categories: (j: number) => string, out: Float32Array): number {
    const { columns } = this.json;
    for (let j = 0; j < columns.length; j++) {
      const c = columns[j];
      const at = this.offsets[j];
      if (c.kind === 'categorical') {
        const vocabulary = this.vocabularies[j] as Vocabulary;
        out.fill(0, at, at + vocabulary.width);
        out[at + vocabulary.columnOf(categories(j))] = 1;
        continue;
      }
      let v = values[j];
      const missing = Number.isNaN(v);
      if (missing) {
        if (c.fill === null) return j;
        v = c.fill;
      }
      out[at] = (v - c.shift) * (1 / c.scale);
      if (c.indicator) out[at + 1] = missing ? 1 : 0;
    }
    return -1;
  }

  /** A numeric feature back in its column's units (for reports in original units). */
  original(j: number, feature: number): number {
    const c = this.json.columns[j];
    return c.kind === 'numeric' ? feature * c.scale + c.shift : Number.NaN;
  }

  /** The first feature of input column j. */
  offset(j: number): number {
    return this.offsets[j];
  }

  /** The features of input column j: from `offset(j)` up to, not including, `end(j)`. */
  end(j: number): number {
    return j + 1 < this.offsets.length ? this.offsets[j + 1] : this.width;
  }

  /**
   * One row's features back in the CSV's terms, per input column: a number in its column's units, a category's
   * value (the strongest of its one-hot features), or null where an indicator says the value was missing
   * (`indicators: false` reads the value regardless, as for a reconstruction, whose indicator is a guess).
   */
  decode(features: ArrayLike<number>, indicators: boolean): Array<number | string | null> {
    return this.json.columns.map((c, j) => {
      const at = this.offsets[j];
      if (c.kind === 'categorical') {
        let best = at;
        for (let f = at + 1; f < this.end(j); f++) if (features[f] > features[best]) best = f;
        return best - at < c.values.length ? c.values[best - at] : 'other';
      }
      if (indicators && c.indicator && features[at + 1] > 0.5) return null;
      return this.original(j, features[at]);
    });
  }
}

/** shift and scale of a numeric column under the chosen normalization; a constant column keeps scale 1. */
function normalization(options: FitOptions, stats: ColumnStatistics, j: number): { shift: number; scale: number } {
  const safe = (s: number) => (s > 0 && Number.isFinite(s) ? s : 1);
  switch (options.normalize) {
    case 'scale':
      return { shift: 0, scale: options.scale ?? 1 };
    case 'standard':
      return { shift: stats.count[j] > 0 ? stats.mean(j) : 0, scale: safe(stats.std(j)) };
    case 'minmax':
      return { shift: stats.count[j] > 0 ? stats.min[j] : 0, scale: safe(stats.max[j] - stats.min[j]) };
    case 'none':
      return { shift: 0, scale: 1 };
  }
}

function featureNames(columns: readonly FittedColumn[]): string[] {
  return columns.flatMap((c) =>
    c.kind === 'categorical' ? [...c.values.map((v) => `${c.name}=${v}`), `${c.name}=other`] : c.indicator ? [c.name, `${c.name}?`] : [c.name],
  );
}
