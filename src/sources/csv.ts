import { createReadStream, promises as fs } from 'node:fs';
import { parse, type Parser } from 'csv-parse';
import { firstValueFrom, Observable } from 'rxjs';
import { AeflowError, at } from '../errors.js';
import type { Row, RowOrigin } from '../rows.js';
import type { FlowControl } from './flowControl.js';

export interface CsvOptions {
  /** The first line names the columns. */
  header: boolean;
  /** Column holding the label: its header name, or its 1-based number; null when there is none. */
  labelColumn: string | number | null;
  /** Called every few rows with the bytes parsed so far, the file size and the rows emitted, for progress bars. */
  progress?: (bytesParsed: number, totalBytes: number, rows: number) => void;
  /** Pauses reading while the consumer is busy. */
  flow?: FlowControl;
}

/**
 * Streams a numeric CSV as rows of Float32Array, one record at a time: the file is never held whole.
 * Every malformed input ends the stream with a coded error naming file, line and column: a missing file,
 * an empty file, a row with the wrong number of columns, a value that is not a finite number.
 *
 * @example
 * csvRows('data/mnist_train.csv', { header: true, labelColumn: 'label' }).pipe(normalize(255))
 */
export function csvRows(file: string, options: CsvOptions): Observable<Row> {
  return new Observable<Row>((subscriber) => {
    let parser: Parser | null = null;
    let stream: ReturnType<typeof createReadStream> | null = null;
    const run = async () => {
      const size = await statCsv(file);
      stream = createReadStream(file, { highWaterMark: 1 << 20 });
      const progress = options.progress;
      parser = parse({ bom: true, skip_empty_lines: true, relax_column_count: true, info: true });
      stream.on('error', (e) => parser?.destroy(e));
      stream.pipe(parser);

      let origin: RowOrigin | null = null;
      let labelIndex = -1;
      let columns = 0;
      let index = 0;
      let sawHeader = false;
      for await (const { record, info } of parser as AsyncIterable<{ record: string[]; info: { lines: number; bytes: number } }>) {
        if (subscriber.closed) return;
        const line = info.lines;
        if (origin === null) {
          columns = record.length;
          const header = options.header ? record.map((s) => s.trim()) : null;
          labelIndex = resolveLabelColumn(file, header, columns, options.labelColumn);
          const featureColumns: number[] = [];
          for (let c = 0; c < columns; c++) if (c !== labelIndex) featureColumns.push(c);
          origin = { file, header, featureColumns };
          if (options.header) {
            sawHeader = true;
            continue;
          }
        }
        if (record.length !== columns) {
          throw new AeflowError(
            'CSV_ROW_INVALID',
            `${at(file, line)}: row has ${record.length} column${record.length === 1 ? '' : 's'}, expected ${columns} ` +
              `(${options.header ? 'as in the header' : 'as in the first row'})`,
            'every row needs one value per column; fix or remove this row',
          );
        }
        subscriber.next(toRow(origin, record, line, index++, labelIndex));
        if (progress && index % 64 === 0) progress(info.bytes, size, index);
        if (options.flow?.blocked) await options.flow.ready();
      }
      if (index === 0) {
        throw new AeflowError(
          'CSV_EMPTY',
          sawHeader ? `${file}: has a header but no data rows` : `${file}: the file is empty`,
          'point the pipeline at a CSV with at least one data row',
        );
      }
      progress?.(size, size, index);
      subscriber.complete();
    };
    run().catch((e) => subscriber.error(translateParseError(file, e)));
    return () => {
      (stream as { destroy?: () => void } | null)?.destroy?.();
      (parser as { destroy?: () => void } | null)?.destroy?.();
    };
  });
}

function toRow(origin: RowOrigin, record: string[], line: number, index: number, labelIndex: number): Row {
  const cols = origin.featureColumns;
  const x = new Float32Array(cols.length);
  for (let i = 0; i < cols.length; i++) {
    const c = cols[i];
    x[i] = parseNumber(origin, record[c], line, c);
  }
  const label = labelIndex >= 0 ? parseNumber(origin, record[labelIndex], line, labelIndex) : null;
  return { origin, line, index, label, x };
}

function parseNumber(origin: RowOrigin, s: string, line: number, column: number): number {
  const v = +s;
  if (Number.isFinite(v) && s.trim() !== '') return v;
  const name = origin.header?.[column];
  throw new AeflowError(
    'CSV_VALUE_INVALID',
    `${at(origin.file, line, column + 1)}: column ${column + 1}${name === undefined ? '' : ` ("${name}")`} holds ` +
      `${JSON.stringify(s.length > 40 ? s.slice(0, 40) + '…' : s)}, expected a finite number`,
    'every value must be a number; fix the value or remove the row',
  );
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

/** Checks the path before streaming so a missing file or a folder gets a clear message. Returns its size. */
export async function statCsv(file: string): Promise<number> {
  let stat: Awaited<ReturnType<typeof fs.stat>>;
  try {
    stat = await fs.stat(file);
  } catch {
    throw new AeflowError('CSV_NOT_FOUND', `${file}: no such file`, 'check the path (pipeline paths are relative to the YAML file)');
  }
  if (stat.isDirectory()) {
    throw new AeflowError('CSV_NOT_FOUND', `${file}: is a folder, not a CSV file`, 'point the pipeline at a .csv file');
  }
  if (stat.size === 0) throw new AeflowError('CSV_EMPTY', `${file}: the file is empty`, 'point the pipeline at a CSV with data rows');
  return stat.size;
}

function translateParseError(file: string, e: unknown): unknown {
  if (e instanceof AeflowError) return e;
  const err = e as { code?: string; message?: string; lines?: number };
  if (typeof err?.code === 'string' && err.code.startsWith('CSV_')) {
    return new AeflowError(
      'CSV_PARSE_FAILED',
      `${file}${err.lines ? `:${err.lines}` : ''}: not valid CSV (${err.message})`,
      'check quoting on that line; the file must be comma-separated text',
    );
  }
  return e;
}

/** Reads only the first rows: the header and the feature count, for checks before any work starts. */
export async function csvShape(file: string, options: Omit<CsvOptions, 'progress' | 'flow'>): Promise<{ width: number; origin: RowOrigin }> {
  const row = await firstValueFrom(csvRows(file, options));
  return { width: row.x.length, origin: row.origin };
}
