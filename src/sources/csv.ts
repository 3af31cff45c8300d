import { createReadStream, promises as fs } from 'node:fs';
import path from 'node:path';
import { CsvError, Parser } from 'csv-parse';
import { firstValueFrom, Observable } from 'rxjs';
import { AeflowError } from '../errors.js';
import type { Row, RowOrigin } from '../rows.js';
import type { FlowControl } from './flowControl.js';
import type { BadRows } from './badRows.js';
import { HAND_OVER, RowBuilder, SKIPPED } from './rowBuilder.js';

export interface CsvOptions {
  /** The first line names the columns. */
  header: boolean;
  /** Column holding the label: its header name, or its 1-based number; null when there is none. */
  labelColumn: string | number | null;
  /** Called every few rows with the bytes parsed so far, the file size and the rows emitted, for progress bars. */
  progress?: (bytesParsed: number, totalBytes: number, rows: number) => void;
  /** Pauses reading while the consumer is busy. */
  flow?: FlowControl;
  /**
   * `fast` (default): a byte-level reader for the common case (unquoted fields, consistent line ends) that hands
   * the rest of the file to csv-parse at the first quote or stray carriage return; `csv-parse`: csv-parse alone.
   * Both give the same rows and the same errors.
   */
  parser?: 'fast' | 'csv-parse';
  /**
   * When given, a row with the wrong column count or a value that is not a number goes here and is skipped
   * (on_bad_row: skip); without it, such a row ends the stream with its error. Broken quoting always ends it.
   */
  badRows?: BadRows;
}

/** Where a reader hands its rows. */
interface RowSink {
  /** Takes a row; resolves when the consumer can take more. */
  row(row: Row): void | Promise<void>;
  readonly closed: boolean;
  /** Bytes of the file read so far, for progress. */
  progress(bytes: number): void;
}

type Destroyable = { destroy(): void };

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
    const streams: Destroyable[] = [];
    const run = async () => {
      const size = await statCsv(file);
      const builder = new RowBuilder(file, options.header, options.labelColumn, options.badRows);
      const { flow, progress } = options;
      let bytes = 0;
      const sink: RowSink = {
        row(row) {
          subscriber.next(row);
          if (progress && row.index % 64 === 63) progress(bytes, size, row.index + 1);
          if (flow?.blocked) return flow.ready();
        },
        get closed() {
          return subscriber.closed;
        },
        progress(read) {
          bytes = read;
        },
      };
      if (options.parser === 'csv-parse') await readWithCsvParse(file, builder, sink, streams, 0, 0);
      else await readFast(file, builder, sink, streams);
      if (subscriber.closed) return;
      if (builder.index === 0) {
        throw new AeflowError(
          'CSV_EMPTY',
          builder.sawHeader ? `${file}: has a header but no data rows` : `${file}: the file is empty`,
          'point the pipeline at a CSV with at least one data row',
        );
      }
      progress?.(size, size, builder.index);
      subscriber.complete();
    };
    run().catch((e) => subscriber.error(e));
    return () => {
      for (const s of streams) s.destroy();
    };
  });
}

/** csv-parse's parsing core, driven chunk by chunk (not documented in its types). */
interface CsvParseApi {
  parse(
    chunk: Buffer | undefined,
    end: boolean,
    push: (item: { record: string[]; info: { lines: number; bytes: number } }) => void,
    close: () => void,
  ): Error | undefined;
}

/**
 * csv-parse over the file from byte `start` (0: the whole file, header included); line numbers count on from
 * `linesBefore`. csv-parse's core is driven one chunk at a time and the records it found are handled before
 * its error, so errors come in file order, as from the fast reader.
 */
async function readWithCsvParse(file: string, builder: RowBuilder, sink: RowSink, streams: Destroyable[], start: number, linesBefore: number): Promise<void> {
  const stream = createReadStream(file, { highWaterMark: 1 << 20, start });
  streams.push(stream);
  // Records end at \n or \r\n: the same rule as the fast reader, and csv-parse then counts lines right.
  const options = { bom: true, skip_empty_lines: true, relax_column_count: true, info: true, record_delimiter: ['\r\n', '\n'] };
  const api = (new Parser(options) as unknown as { api: CsvParseApi }).api;
  const handle = async (chunk: Buffer | undefined, end: boolean) => {
    const found: Array<{ record: string[]; info: { lines: number; bytes: number } }> = [];
    const error = api.parse(
      chunk,
      end,
      (item) => found.push(item),
      () => undefined,
    );
    for (const { record, info } of found) {
      if (sink.closed) return;
      sink.progress(start + info.bytes);
      const row = builder.fromStrings(record, linesBefore + info.lines);
      if (row) await sink.row(row);
    }
    if (error) throw translateParseError(file, error, linesBefore);
  };
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    if (sink.closed) return;
    await handle(chunk, false);
  }
  await handle(undefined, true);
}

/** Bytes per read of the byte-level reader (the buffer grows for a longer line). */
const READ_BYTES = 1 << 20;

/**
 * The byte-level reader: splits lines on \n (dropping the \r of \r\n), fields on commas, and reads numbers
 * straight from the bytes. The first quote or stray carriage return hands the file from that record on to
 * csv-parse, so quoted fields keep csv-parse's rules; so does UTF-16 text. Reads into one buffer, reused: the
 * part of a line a read cut off moves to its start.
 */
async function readFast(file: string, builder: RowBuilder, sink: RowSink, streams: Destroyable[]): Promise<void> {
  const handle = await fs.open(file, 'r');
  let buf = Buffer.alloc(READ_BYTES);
  /** Bytes of the file in buf; buf[0] is the file's byte `base`. */
  let held = 0;
  let base = 0;
  let line = 0;
  let first = true;

  // One line (without its \n); false when the record must go to csv-parse.
  const record = async (bytes: Buffer, start: number, end: number, ended: boolean): Promise<boolean> => {
    line++;
    if (ended && end > start && bytes[end - 1] === 13) end--;
    if (end === start) return true; // an empty line
    if (!builder.started) {
      const text = bytes.toString('utf8', start, end);
      if (text.includes('"') || text.includes('\r')) return false;
      const row = builder.fromStrings(text.split(','), line);
      if (row) await sink.row(row);
      return true;
    }
    const row = builder.fromBytes(bytes, start, end, line);
    if (row === HAND_OVER) return false;
    if (row !== SKIPPED) await sink.row(row);
    return true;
  };
  // csv-parse takes over from the record at `offset`, on the line after `linesBefore`.
  const handOver = async (offset: number, linesBefore = line - 1): Promise<void> => {
    await handle.close();
    await readWithCsvParse(file, builder, sink, streams, offset, linesBefore);
  };

  try {
    for (;;) {
      if (held === buf.length) {
        // A line longer than the buffer: grow it.
        const bigger = Buffer.alloc(buf.length * 2);
        buf.copy(bigger, 0, 0, held);
        buf = bigger;
      }
      const { bytesRead } = await handle.read(buf, held, buf.length - held, base + held);
      if (sink.closed) return;
      held += bytesRead;
      const bytes = buf.subarray(0, held);
      let start = 0;
      if (first && held > 0) {
        first = false;
        if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) start = 3;
        // UTF-16 text (a little-endian byte-order mark): csv-parse decodes it.
        if (bytes[0] === 0xff && bytes[1] === 0xfe) return await handOver(0, 0);
      }
      if (bytesRead === 0) {
        // The end of the file: a last line without \n.
        if (start < held && !(await record(bytes, start, held, false))) return await handOver(base + start);
        return;
      }
      for (let nl = bytes.indexOf(10, start); nl !== -1; nl = bytes.indexOf(10, start)) {
        sink.progress(base + nl + 1);
        if (!(await record(bytes, start, nl, true))) return await handOver(base + start);
        if (sink.closed) return;
        start = nl + 1;
      }
      buf.copy(buf, 0, start, held);
      held -= start;
      base += start;
    }
  } finally {
    await handle.close().catch(() => undefined);
  }
}

/** Checks the path before streaming so a missing file or a folder gets a clear message. Returns its size. */
export async function statCsv(file: string): Promise<number> {
  let stat: Awaited<ReturnType<typeof fs.stat>>;
  try {
    stat = await fs.stat(file);
  } catch {
    // A relative path here came from the command line, as typed (a pipeline's paths arrive resolved).
    const hint = path.isAbsolute(file) ? 'check the path' : `check the path: it is relative to the working folder (${process.cwd()})`;
    throw new AeflowError('CSV_NOT_FOUND', `${file}: no such file`, hint);
  }
  if (stat.isDirectory()) {
    throw new AeflowError('CSV_NOT_FOUND', `${file}: is a folder, not a CSV file`, 'point it at a .csv file');
  }
  if (stat.size === 0) throw new AeflowError('CSV_EMPTY', `${file}: the file is empty`, 'point the pipeline at a CSV with data rows');
  await sniff(file);
  return stat.size;
}

/**
 * Looks at the first bytes: a gzip file, or binary data (NUL bytes in what is not UTF-16 text), is not a CSV
 * whatever its name, and saying so beats a row error about garbage.
 */
async function sniff(file: string): Promise<void> {
  const handle = await fs.open(file, 'r');
  const head = Buffer.alloc(4096);
  let n: number;
  try {
    ({ bytesRead: n } = await handle.read(head, 0, head.length, 0));
  } finally {
    await handle.close();
  }
  if (n >= 2 && head[0] === 0x1f && head[1] === 0x8b) {
    throw new AeflowError(
      'CSV_NOT_TEXT',
      `${file}: is gzip-compressed, not a CSV text file`,
      `decompress it first (gunzip -k ${file}) and point the pipeline at the result`,
    );
  }
  const utf16 = n >= 2 && ((head[0] === 0xff && head[1] === 0xfe) || (head[0] === 0xfe && head[1] === 0xff));
  if (!utf16 && head.subarray(0, n).includes(0)) {
    throw new AeflowError(
      'CSV_NOT_TEXT',
      `${file}: holds binary data (NUL bytes in its first ${n} bytes), not CSV text`,
      'point the pipeline at a comma-separated text file',
    );
  }
}

/** csv-parse's own errors (bad quoting) as coded errors, at the file's line. */
function translateParseError(file: string, e: unknown, linesBefore: number): unknown {
  if (e instanceof CsvError) {
    const err = e as CsvError & { lines?: number };
    const message = (err.message ?? '').replace(/ at line \d+/, '').replace(/^Invalid /, 'invalid ');
    return new AeflowError(
      'CSV_PARSE_FAILED',
      `${file}${err.lines ? `:${linesBefore + err.lines}` : ''}: not valid CSV (${message})`,
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
