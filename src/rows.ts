/**
 * What flows through a pipeline before the worker: plain typed arrays, never tensors.
 */

/** Where rows come from, shared by every row of one source (no per-row cost). */
export interface RowOrigin {
  /** The file as the user named it, for messages. */
  readonly file: string;
  /** Column names from the header row, or null when the file has none. */
  readonly header: readonly string[] | null;
  /** 0-based CSV column of each feature value, so messages can name the column a value came from. */
  readonly featureColumns: readonly number[];
  /**
   * Per feature, for a categorical column, its values by id: such a feature's value in `Row.x` is the id of its
   * text, in the order the source first met them (the list grows as the source is read). Absent when the source
   * has no categorical columns.
   */
  readonly categories?: ReadonlyArray<readonly string[] | null>;
}

export interface Row {
  readonly origin: RowOrigin;
  /** 1-based line in the file where the row starts. */
  readonly line: number;
  /** 0-based position of the row among the file's data rows. */
  readonly index: number;
  readonly label: number | null;
  /**
   * Feature values: raw as parsed (NaN where a value is missing and missing values are allowed; a categorical
   * column's id, see RowOrigin.categories), in [0, 1] after `normalize`, noisy after a noise stage. May be a view into
   * memory its source reuses once the row has been handled (the row cache's read buffer, the shuffle's
   * window): a consumer that keeps a row past its `next` copies the values.
   */
  readonly x: Float32Array;
  /** What the model must reconstruct when it differs from `x` (denoising): the clean values. */
  readonly target?: Float32Array;
}

/** A row with its own copies of its values: for keeping a row past its `next` (see `Row.x`). */
export function copyRow(row: Row): Row {
  return row.target ? { ...row, x: row.x.slice(), target: row.target.slice() } : { ...row, x: row.x.slice() };
}

/** Rows packed row-major into one buffer, ready to be transferred to a worker. */
export interface Batch {
  readonly rows: number;
  readonly cols: number;
  readonly x: Float32Array;
  /** Null when the target is `x` itself. */
  readonly target: Float32Array | null;
  /** One label per row (NaN where a row has none), or null when the source has no label column. */
  readonly labels: Float32Array | null;
  /** 0-based index of each row in its file (input order, used by `encode`). */
  readonly indices: Int32Array;
  /** 1-based line of each row in its file. */
  readonly lines: Int32Array;
}

/** 1-based CSV column of feature `i` of a row. */
export function columnOf(origin: RowOrigin, i: number): number {
  return (origin.featureColumns[i] ?? i) + 1;
}

export function columnName(origin: RowOrigin, i: number): string {
  const col = columnOf(origin, i);
  const name = origin.header?.[col - 1];
  return name === undefined ? `column ${col}` : `column ${col} ("${name}")`;
}
