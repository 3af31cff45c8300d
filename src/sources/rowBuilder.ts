import { AeflowError, at } from '../errors.js';
import type { Row, RowOrigin } from '../rows.js';
import type { BadRows } from './badRows.js';

/**
 * Turns CSV records into rows, and malformed records into coded errors, the same way whichever parser read
 * them. The first record fixes the column count (and names the columns when the file has a header); every later
 * record must have that many fields, all finite numbers. Features are parsed before the label, and a wrong field
 * count is reported before a bad value, so both parsers report the same first error.
 */
export class RowBuilder {
  private originValue: RowOrigin | null = null;
  private columns = 0;
  private labelIndex = -1;
  /** Per column: its feature index, or -1 for the label column. */
  private featureOf = new Int32Array(0);
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
    return this.guard(line, () => this.stringRow(record, line));
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
   * A data record as bytes `buf[start, end)` (no line end), for the byte-level parser. Returns the row, or
   * `undefined` when the record holds a quote or a carriage return that this parser leaves to csv-parse.
   */
  fromBytes(buf: Uint8Array, start: number, end: number, line: number): Row | null | undefined {
    return this.guard(line, () => this.byteRow(buf, start, end, line));
  }

  /** Runs a row conversion; under a skip policy a row error is counted and null returned. */
  private guard<T>(line: number, convert: () => T): T | null {
    if (!this.badRows) return convert();
    try {
      return convert();
    } catch (e) {
      if (e instanceof AeflowError && (e.code === 'CSV_ROW_INVALID' || e.code === 'CSV_VALUE_INVALID')) {
        this.badRows.add(line, e);
        return null;
      }
      throw e;
    }
  }

  private byteRow(buf: Uint8Array, start: number, end: number, line: number): Row | undefined {
    const origin = this.originValue as RowOrigin;
    const featureOf = this.featureOf;
    const columns = this.columns;
    const x = new Float32Array(origin.featureColumns.length);
    let label: number | null = null;
    let firstBad: { column: number; start: number; end: number } | null = null;
    let labelBad: { column: number; start: number; end: number } | null = null;
    let column = 0;
    let fieldStart = start;
    for (let i = start; i <= end; i++) {
      const c = i < end ? buf[i] : 44;
      if (c === 44) {
        if (column < columns) {
          let v = fastNumber(buf, fieldStart, i);
          if (Number.isNaN(v)) v = plainNumber(buf, fieldStart, i);
          const f = featureOf[column];
          if (Number.isNaN(v)) {
            if (f >= 0) firstBad ??= { column, start: fieldStart, end: i };
            else labelBad = { column, start: fieldStart, end: i };
          } else if (f >= 0) {
            x[f] = v;
          } else {
            label = v;
          }
        }
        column++;
        fieldStart = i + 1;
      } else if (c === 34 || c === 13) {
        return undefined;
      }
    }
    this.checkCount(column, line);
    const bad = firstBad ?? labelBad;
    if (bad) throw this.valueError(new TextDecoder().decode(buf.subarray(bad.start, bad.end)), line, bad.column);
    return { origin, line, index: this.index++, label, x };
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
    if (this.header) this.sawHeader = true;
  }

  private checkCount(count: number, line: number): void {
    if (count === this.columns) return;
    throw new AeflowError(
      'CSV_ROW_INVALID',
      `${at(this.file, line)}: row has ${count} column${count === 1 ? '' : 's'}, expected ${this.columns} ` +
        `(${this.header ? 'as in the header' : 'as in the first row'})`,
      'every row needs one value per column; fix or remove this row',
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

const POW10 = Array.from({ length: 23 }, (_, k) => 10 ** k);

/**
 * The common case of a decimal number, read straight from bytes: an optional sign, digits, an optional point
 * and digits, at most 15 digits in all. The mantissa is then exact and one correctly rounded division by an
 * exact power of ten gives the same double as `Number(text)`. Anything else returns NaN (the caller falls back
 * to `Number(text)`).
 */
function fastNumber(buf: Uint8Array, start: number, end: number): number {
  let i = start;
  let negative = false;
  if (i < end && (buf[i] === 45 || buf[i] === 43)) {
    negative = buf[i] === 45;
    i++;
  }
  let mantissa = 0;
  let digits = 0;
  let fraction = 0;
  while (i < end) {
    const d = buf[i] - 48;
    if (d < 0 || d > 9) break;
    mantissa = mantissa * 10 + d;
    digits++;
    i++;
  }
  if (i < end && buf[i] === 46) {
    i++;
    while (i < end) {
      const d = buf[i] - 48;
      if (d < 0 || d > 9) break;
      mantissa = mantissa * 10 + d;
      digits++;
      fraction++;
      i++;
    }
  }
  if (i !== end || digits === 0 || digits > 15) return Number.NaN;
  const v = fraction === 0 ? mantissa : mantissa / POW10[fraction];
  return negative ? -v : v;
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
