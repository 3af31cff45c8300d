import { AeflowError, at } from '../errors.js';
import type { Row, RowOrigin } from '../rows.js';
import type { BadRows } from './badRows.js';

/** `fromBytes` read a bad row and counted it (on_bad_row: skip): nothing to emit. */
export const SKIPPED = 'skipped';
/** `fromBytes` met a quote or a carriage return: csv-parse reads the file from this record on. */
export const HAND_OVER = 'hand-over';
/** What `fromBytes` made of a record: its row, or one of the two outcomes above (constants: nothing is allocated). */
export type ByteRecord = Row | typeof SKIPPED | typeof HAND_OVER;

/** Which columns a reader makes features of, and how; without one, every column but the label is a number. */
export interface ColumnPlan {
  /** Feature columns: header names, 1-based numbers, or "a-b" ranges of numbers (inclusive); null: every column but the label. */
  readonly features: ReadonlyArray<string | number> | null;
  /** Columns left out (the same forms). */
  readonly exclude: ReadonlyArray<string | number>;
  /** Feature columns whose values are categories (any text), by name or number. */
  readonly categorical: ReadonlyArray<string | number>;
  /** An empty numeric field is a missing value (NaN in the row), not an error. */
  readonly allowMissing: boolean;
  /** A label column named in the header may be absent: the rows then have no label (new, unlabelled data). */
  readonly labelOptional?: boolean;
}

/** featureOf's marks for the columns that are not features. */
const LABEL = -1;
const IGNORED = -2;

/** What the field readers need to know of each column (one object, fixed once the first record is read). */
interface Layout {
  /** Per column: its feature index, LABEL or IGNORED. */
  featureOf: Int32Array;
  /** Per feature: 1 when its values are categories. */
  categorical: Uint8Array;
  allowMissing: boolean;
}

/**
 * Turns CSV records into rows, and malformed records into coded errors, the same way whichever parser read
 * them. The first record fixes the column count (and names the columns when the file has a header); every later
 * record must have that many fields, all finite numbers. Features are parsed before the label, and a wrong field
 * count is reported before a bad value, so both parsers report the same first error.
 */
export class RowBuilder {
  private originValue: RowOrigin | null = null;
  /** What readFields found besides the features (reused row after row). */
  private readonly found = new Fields();
  private columns = 0;
  private labelIndex = -1;
  private layout: Layout = { featureOf: new Int32Array(0), categorical: new Uint8Array(0), allowMissing: false };
  private hasCategorical = false;
  /** Per categorical feature, its values' ids (first met, first numbered); origin.categories lists them by id. */
  private dictionaries: Array<Map<string, number> | null> = [];
  /**
   * The values of the row the byte-level parser read last, reused row after row (a row is handled before the
   * next is read; see `Row.x`): an array per row kept the main thread's garbage collector busy, competing with
   * training (`bench/run.mjs`, training section).
   */
  private values = new Float32Array(0);
  /** Data rows emitted so far. */
  index = 0;
  sawHeader = false;

  constructor(
    readonly file: string,
    private readonly header: boolean,
    private readonly labelColumn: string | number | null,
    /** When given, bad records are counted here and skipped instead of thrown. */
    private readonly badRows?: BadRows,
    private readonly plan?: ColumnPlan,
  ) {}

  get origin(): RowOrigin | null {
    return this.originValue;
  }

  get started(): boolean {
    return this.originValue !== null;
  }

  /** A record as strings; returns its row, or null for the header (and for a bad row being skipped). */
  fromStrings(record: readonly string[], line: number): Row | null {
    if (this.originValue === null) {
      this.start(record);
      if (this.header) return null;
    }
    if (!this.badRows) return this.stringRow(record, line);
    try {
      return this.stringRow(record, line);
    } catch (e) {
      this.skip(line, e);
      return null;
    }
  }

  private stringRow(record: readonly string[], line: number): Row {
    const origin = this.originValue as RowOrigin;
    this.checkCount(record.length, line);
    const x = new Float32Array(origin.featureColumns.length);
    const { categorical, allowMissing } = this.layout;
    for (let i = 0; i < x.length; i++) {
      const c = origin.featureColumns[i];
      const field = record[c];
      x[i] = categorical[i] ? this.categoryId(i, field) : allowMissing && field.trim() === '' ? Number.NaN : this.number(field, line, c);
    }
    const label = this.labelIndex >= 0 ? this.number(record[this.labelIndex], line, this.labelIndex) : null;
    return { origin, line, index: this.index++, label, x };
  }

  /**
   * A data record as bytes `buf[start, end)` (no line end), for the byte-level parser: its row (whose values
   * are valid until the next call), SKIPPED or HAND_OVER.
   */
  fromBytes(buf: Uint8Array, start: number, end: number, line: number): ByteRecord {
    if (!this.badRows) return this.byteRow(buf, start, end, line);
    try {
      return this.byteRow(buf, start, end, line);
    } catch (e) {
      this.skip(line, e);
      return SKIPPED;
    }
  }

  /** Under on_bad_row: skip, counts a row's error; any other error is thrown on. */
  private skip(line: number, e: unknown): void {
    if (this.badRows && e instanceof AeflowError && (e.code === 'CSV_ROW_INVALID' || e.code === 'CSV_VALUE_INVALID')) {
      this.badRows.add(line, e);
      return;
    }
    throw e;
  }

  private byteRow(buf: Uint8Array, start: number, end: number, line: number): Row | typeof HAND_OVER {
    const origin = this.originValue as RowOrigin;
    const x = this.values;
    const found = this.found;
    let count = this.hasCategorical ? NOT_INTEGERS : readIntegers(buf, start, end, this.columns, this.layout.featureOf, x, found);
    if (count === NOT_INTEGERS) count = readFields(buf, start, end, this.columns, this.layout, x, found);
    if (count === QUOTED) return HAND_OVER;
    this.checkCount(count, line);
    if (this.hasCategorical) this.readCategories(buf, x);
    // The first bad feature value, else a bad label.
    const bad = found.badFeature.column >= 0 ? found.badFeature : found.badLabel.column >= 0 ? found.badLabel : null;
    if (bad) throw this.valueError(new TextDecoder().decode(buf.subarray(bad.start, bad.end)), line, bad.column);
    return { origin, line, index: this.index++, label: found.hasLabel ? found.label[0] : null, x };
  }

  private start(record: readonly string[]): void {
    this.columns = record.length;
    const header = this.header ? record.map((s) => s.trim()) : null;
    const optional = this.plan?.labelOptional && typeof this.labelColumn === 'string' && !header?.includes(this.labelColumn);
    this.labelIndex = optional ? -1 : resolveLabelColumn(this.file, header, this.columns, this.labelColumn);
    const select = new ColumnSelector(this.file, header, this.columns);
    const chosen = this.plan?.features ? select.all(this.plan.features) : Array.from({ length: this.columns }, (_, c) => c);
    const excluded = new Set(select.all(this.plan?.exclude ?? []));
    const featureColumns = chosen.filter((c) => c !== this.labelIndex && !excluded.has(c));
    const categoricalColumns = new Set(select.all(this.plan?.categorical ?? []));
    for (const c of categoricalColumns) {
      if (!featureColumns.includes(c)) throw select.error(c, 'is named in data.categorical but is not a feature column (it is the label, or left out)');
    }
    const featureOf = new Int32Array(this.columns).fill(IGNORED);
    featureColumns.forEach((c, i) => {
      featureOf[c] = i;
    });
    if (this.labelIndex >= 0) featureOf[this.labelIndex] = LABEL;
    const categorical = Uint8Array.from(featureColumns, (c) => (categoricalColumns.has(c) ? 1 : 0));
    this.layout = { featureOf, categorical, allowMissing: this.plan?.allowMissing ?? false };
    this.hasCategorical = categoricalColumns.size > 0;
    this.dictionaries = featureColumns.map((c) => (categoricalColumns.has(c) ? new Map<string, number>() : null));
    const categories = this.hasCategorical ? featureColumns.map((c) => (categoricalColumns.has(c) ? ([] as string[]) : null)) : undefined;
    this.originValue = { file: this.file, header, featureColumns, ...(categories ? { categories } : {}) };
    this.values = new Float32Array(featureColumns.length);
    this.found.spans = new Int32Array(2 * featureColumns.length);
    if (this.header) this.sawHeader = true;
  }

  /** The id of a categorical feature's value (text, trimmed), numbering values as they are first met. */
  private categoryId(feature: number, text: string): number {
    const dictionary = this.dictionaries[feature] as Map<string, number>;
    const value = text.trim();
    let id = dictionary.get(value);
    if (id === undefined) {
      id = dictionary.size;
      dictionary.set(value, id);
      const names = (this.originValue as RowOrigin).categories as ReadonlyArray<string[]>;
      names[feature].push(value);
    }
    return id;
  }

  /** The categorical features' ids, from the field spans readFields noted. */
  private readCategories(buf: Uint8Array, x: Float32Array): void {
    const { categorical } = this.layout;
    const spans = this.found.spans;
    for (let f = 0; f < categorical.length; f++) {
      if (categorical[f]) x[f] = this.categoryId(f, decoder.decode(buf.subarray(spans[2 * f], spans[2 * f + 1])));
    }
  }

  private checkCount(count: number, line: number): void {
    if (count === this.columns) return;
    throw new AeflowError(
      'CSV_ROW_INVALID',
      `${at(this.file, line)}: row has ${count} column${count === 1 ? '' : 's'}, expected ${this.columns} ` +
        `(${this.header ? 'as in the header' : 'as in the first row'})`,
      'every row needs one value per column; fix or remove this row, or skip such rows with data.on_bad_row: skip (--on-bad-row skip for encode, evaluate)',
    );
  }

  private number(s: string, line: number, column: number): number {
    const v = +s;
    if (Number.isFinite(v) && s.trim() !== '') return v;
    throw this.valueError(s, line, column);
  }

  private valueError(s: string, line: number, column: number): AeflowError {
    const name = this.originValue?.header?.[column];
    if (s.trim() === '') {
      return new AeflowError(
        'CSV_VALUE_INVALID',
        `${at(this.file, line, column + 1)}: column ${column + 1}${name === undefined ? '' : ` ("${name}")`} is empty, expected a number`,
        'fill it in, or say what an empty value means with data.missing: mean, zero or skip (a text column: data.categorical)',
      );
    }
    return new AeflowError(
      'CSV_VALUE_INVALID',
      `${at(this.file, line, column + 1)}: column ${column + 1}${name === undefined ? '' : ` ("${name}")`} holds ` +
        `${JSON.stringify(s.length > 40 ? s.slice(0, 40) + '…' : s)}, expected a finite number`,
      'every value must be a number; fix the value or remove the row (a column of text: data.categorical or data.exclude)',
    );
  }
}

/** readFields met a quote or a carriage return. */
const QUOTED = -1;
/** readIntegers met a field that is not an unsigned integer. */
const NOT_INTEGERS = -2;

const POW10 = Array.from({ length: 23 }, (_, k) => 10 ** k);

/** A field that is not a number: its column and its bytes `[start, end)`; column -1 when there is none. */
class BadField {
  column = -1;
  start = 0;
  end = 0;

  set(column: number, start: number, end: number): void {
    this.column = column;
    this.start = start;
    this.end = end;
  }
}

/** What readFields found besides the features (one object, reused record after record). */
class Fields {
  readonly label = new Float64Array(1);
  hasLabel = false;
  /** The first feature field that is not a number. */
  readonly badFeature = new BadField();
  /** The label field, when it is not a number. */
  readonly badLabel = new BadField();
  /** Per feature, the [start, end) of its field: only categorical features' are noted. */
  spans = new Int32Array(0);

  /** Forgets the last record's. */
  reset(): void {
    this.hasLabel = false;
    this.badFeature.column = -1;
    this.badLabel.column = -1;
  }
}

/**
 * Reads one record's fields from bytes into x (features) and `found` (the label, and where values are not
 * numbers) in one pass: returns the number of fields, or QUOTED at a quote or a carriage return (csv-parse's
 * business). A field that is a plain decimal (an optional sign, digits, an optional point and digits, at most
 * 15 digits in all) is read as its bytes go by: the mantissa is then exact, and one correctly rounded division
 * by an exact power of ten gives the same double as `Number(text)`. Any other field goes to plainNumber. A
 * function of its own, so the JIT makes a tight loop of it.
 */
function readFields(buf: Uint8Array, start: number, end: number, columns: number, layout: Layout, x: Float32Array, found: Fields): number {
  const { featureOf, categorical, allowMissing } = layout;
  found.reset();
  let column = 0;
  let fieldStart = start;
  let mantissa = 0;
  let digits = 0;
  let fraction = -1; // digits after the point; -1 before a point
  let negative = false;
  let plain = true;
  for (let i = start; i <= end; i++) {
    const c = i < end ? buf[i] : 44;
    const d = c - 48;
    if (d >= 0 && d <= 9) {
      mantissa = mantissa * 10 + d;
      digits++;
      if (fraction >= 0) fraction++;
    } else if (c === 44) {
      const f = column < columns ? featureOf[column] : IGNORED;
      if (f >= 0 && categorical[f]) {
        found.spans[2 * f] = fieldStart;
        found.spans[2 * f + 1] = i;
      } else if (f !== IGNORED) {
        let v: number;
        if (plain && digits > 0 && digits <= 15) {
          v = fraction <= 0 ? mantissa : mantissa / POW10[fraction];
          if (negative) v = -v;
        } else {
          v = plainNumber(buf, fieldStart, i);
        }
        if (f >= 0) {
          x[f] = v;
          const missing = Number.isNaN(v) && allowMissing && blank(buf, fieldStart, i);
          if (Number.isNaN(v) && !missing && found.badFeature.column < 0) found.badFeature.set(column, fieldStart, i);
        } else {
          found.label[0] = v;
          found.hasLabel = true;
          if (Number.isNaN(v)) found.badLabel.set(column, fieldStart, i);
        }
      }
      column++;
      fieldStart = i + 1;
      mantissa = 0;
      digits = 0;
      fraction = -1;
      negative = false;
      plain = true;
    } else if (c === 34 || c === 13) {
      return QUOTED;
    } else if (c === 46 && fraction < 0) {
      fraction = 0;
    } else if ((c === 45 || c === 43) && i === fieldStart) {
      negative = c === 45;
    } else {
      plain = false;
    }
  }
  return column;
}

/**
 * readFields for the commonest record, every field an unsigned integer of 1 to 15 digits (pixels 0–255):
 * the same values and field count, with less to check per byte. Returns NOT_INTEGERS at the first byte that is
 * neither a digit nor a comma, and at an empty or over-long field: readFields then reads the record again.
 */
function readIntegers(buf: Uint8Array, start: number, end: number, columns: number, featureOf: Int32Array, x: Float32Array, found: Fields): number {
  found.reset();
  let column = 0;
  let value = 0;
  let digits = 0;
  for (let i = start; i < end; i++) {
    const d = buf[i] - 48;
    if (d >= 0 && d <= 9) {
      value = value * 10 + d;
      digits++;
    } else if (d === -4 && digits > 0 && digits <= 15) {
      // a comma (44) after a field
      if (column < columns) storeInteger(column, value, featureOf, x, found);
      column++;
      value = 0;
      digits = 0;
    } else {
      return NOT_INTEGERS;
    }
  }
  if (digits === 0 || digits > 15) return NOT_INTEGERS;
  if (column < columns) storeInteger(column, value, featureOf, x, found);
  return column + 1;
}

function storeInteger(column: number, value: number, featureOf: Int32Array, x: Float32Array, found: Fields): void {
  const f = featureOf[column];
  if (f >= 0) {
    x[f] = value;
  } else if (f === LABEL) {
    found.label[0] = value;
    found.hasLabel = true;
  }
}

/** Whether bytes [start, end) are empty or spaces: a missing value. */
function blank(buf: Uint8Array, start: number, end: number): boolean {
  for (let i = start; i < end; i++) if (buf[i] !== 32 && buf[i] !== 9) return false;
  return true;
}

const decoder = new TextDecoder();

/** `Number(text)` of a field, with the CSV rules: blank, NaN and infinities are not numbers (NaN back). */
function plainNumber(buf: Uint8Array, start: number, end: number): number {
  const s = decoder.decode(buf.subarray(start, end));
  const v = +s;
  return Number.isFinite(v) && s.trim() !== '' ? v : Number.NaN;
}

function resolveLabelColumn(file: string, header: string[] | null, columns: number, label: string | number | null): number {
  if (label === null) return -1;
  if (typeof label === 'number') {
    if (label >= 1 && label <= columns) return label - 1;
    throw new AeflowError(
      'CSV_HEADER_INVALID',
      `${at(file, 1)}: label column ${label} does not exist, the file has ${columns} columns`,
      'set data.label_column to a column number from 1 to the column count, a header name, or null',
    );
  }
  const i = header ? header.indexOf(label) : -1;
  if (i >= 0) return i;
  throw new AeflowError(
    'CSV_HEADER_INVALID',
    header
      ? `${at(file, 1)}: no column named "${label}" in the header (it starts ${header
          .slice(0, 4)
          .map((h) => JSON.stringify(h))
          .join(', ')}…)`
      : `${file}: label column "${label}" is named, but data.header is false`,
    'set data.label_column to a header name, a 1-based column number, or null when the file has no labels',
  );
}

/** Resolves columns named in the pipeline (header names, 1-based numbers, "a-b" ranges) to 0-based columns. */
class ColumnSelector {
  constructor(
    private readonly file: string,
    private readonly header: string[] | null,
    private readonly columns: number,
  ) {}

  all(specs: ReadonlyArray<string | number>): number[] {
    return specs.flatMap((s) => this.one(s));
  }

  private one(spec: string | number): number[] {
    if (typeof spec === 'number') return [this.number(spec, String(spec))];
    const range = /^(\d+)\s*-\s*(\d+)$/.exec(spec);
    if (range) {
      const [from, to] = [this.number(Number(range[1]), spec), this.number(Number(range[2]), spec)];
      if (to < from) throw this.error(from, `range "${spec}" runs backwards`);
      return Array.from({ length: to - from + 1 }, (_, i) => from + i);
    }
    const i = this.header?.indexOf(spec) ?? -1;
    if (i >= 0) return [i];
    throw new AeflowError(
      'CSV_HEADER_INVALID',
      this.header ? `${at(this.file, 1)}: no column named "${spec}" in the header` : `${this.file}: column "${spec}" is named, but data.header is false`,
      'name columns by their header names, 1-based numbers, or ranges such as "2-31"',
    );
  }

  private number(n: number, spec: string): number {
    if (Number.isInteger(n) && n >= 1 && n <= this.columns) return n - 1;
    throw new AeflowError(
      'CSV_HEADER_INVALID',
      `${at(this.file, 1)}: column ${spec} does not exist, the file has ${this.columns} columns`,
      'use column numbers from 1 to the column count',
    );
  }

  error(column: number, what: string): AeflowError {
    const name = this.header?.[column];
    return new AeflowError(
      'CSV_HEADER_INVALID',
      `${at(this.file, 1)}: column ${column + 1}${name === undefined ? '' : ` ("${name}")`} ${what}`,
      'check data.features, data.exclude and data.categorical',
    );
  }
}
