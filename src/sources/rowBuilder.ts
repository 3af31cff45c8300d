import { AeflowError, at } from '../errors.js';
import type { Row, RowOrigin } from '../rows.js';
import type { BadRows } from './badRows.js';

/** `fromBytes` read a bad row and counted it (on_bad_row: skip): nothing to emit. */
export const SKIPPED = 'skipped';
/** `fromBytes` met a quote or a carriage return: csv-parse reads the file from this record on. */
export const HAND_OVER = 'hand-over';
/** What `fromBytes` made of a record: its row, or one of the two outcomes above (constants: nothing is allocated). */
export type ByteRecord = Row | typeof SKIPPED | typeof HAND_OVER;

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
  /** Per column: its feature index, or -1 for the label column. */
  private featureOf = new Int32Array(0);
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
    for (let i = 0; i < x.length; i++) {
      const c = origin.featureColumns[i];
      x[i] = this.number(record[c], line, c);
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
    let count = readIntegers(buf, start, end, this.columns, this.featureOf, x, found);
    if (count === NOT_INTEGERS) count = readFields(buf, start, end, this.columns, this.featureOf, x, found);
    if (count === QUOTED) return HAND_OVER;
    this.checkCount(count, line);
    // The first bad feature value, else a bad label.
    const bad = found.badFeature.column >= 0 ? found.badFeature : found.badLabel.column >= 0 ? found.badLabel : null;
    if (bad) throw this.valueError(new TextDecoder().decode(buf.subarray(bad.start, bad.end)), line, bad.column);
    return { origin, line, index: this.index++, label: found.hasLabel ? found.label[0] : null, x };
  }

  private start(record: readonly string[]): void {
    this.columns = record.length;
    const header = this.header ? record.map((s) => s.trim()) : null;
    this.labelIndex = resolveLabelColumn(this.file, header, this.columns, this.labelColumn);
    const featureColumns: number[] = [];
    this.featureOf = new Int32Array(this.columns);
    for (let c = 0; c < this.columns; c++) {
      this.featureOf[c] = c === this.labelIndex ? -1 : featureColumns.length;
      if (c !== this.labelIndex) featureColumns.push(c);
    }
    this.originValue = { file: this.file, header, featureColumns };
    this.values = new Float32Array(featureColumns.length);
    if (this.header) this.sawHeader = true;
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
    return new AeflowError(
      'CSV_VALUE_INVALID',
      `${at(this.file, line, column + 1)}: column ${column + 1}${name === undefined ? '' : ` ("${name}")`} holds ` +
        `${JSON.stringify(s.length > 40 ? s.slice(0, 40) + '…' : s)}, expected a finite number`,
      'every value must be a number; fix the value or remove the row',
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
function readFields(buf: Uint8Array, start: number, end: number, columns: number, featureOf: Int32Array, x: Float32Array, found: Fields): number {
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
      if (column < columns) {
        let v: number;
        if (plain && digits > 0 && digits <= 15) {
          v = fraction <= 0 ? mantissa : mantissa / POW10[fraction];
          if (negative) v = -v;
        } else {
          v = plainNumber(buf, fieldStart, i);
        }
        const f = featureOf[column];
        if (f >= 0) {
          x[f] = v;
          if (Number.isNaN(v) && found.badFeature.column < 0) found.badFeature.set(column, fieldStart, i);
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
  } else {
    found.label[0] = value;
    found.hasLabel = true;
  }
}

/** `Number(text)` of a field, with the CSV rules: blank, NaN and infinities are not numbers (NaN back). */
function plainNumber(buf: Uint8Array, start: number, end: number): number {
  const s = new TextDecoder().decode(buf.subarray(start, end));
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
