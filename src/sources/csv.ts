import { createReadStream, promises as fs } from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { CsvError, Parser } from 'csv-parse';
import { type ByteSource, fileSource, streamSource } from './byteSource.js';
import { firstValueFrom, Observable } from 'rxjs';
import { AeflowError } from '../errors.js';
import type { Row, RowOrigin } from '../rows.js';
import type { FlowControl } from './flowControl.js';
import type { BadRows } from './badRows.js';
import { type ColumnPlan, HAND_OVER, RowBuilder, SKIPPED } from './rowBuilder.js';
import { isPattern, shardFiles } from './shards.js';

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
  /** Which columns are features, which of them categorical, and whether values may be missing (default: every column but the label, numbers). */
  columns?: ColumnPlan;
}

/** Where a reader hands its rows. */
interface RowSink {
  /** Takes a row; resolves when the consumer can take more. */
  row(row: Row): void | Promise<void>;
  readonly closed: boolean;
  /** The text position parsed to, for progress. */
  parsed(position: number): void;
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
    let source: ByteSource | null = null;
    const run = async () => {
      source = await openCsv(file);
      const bytes = source;
      const builder = new RowBuilder(file, options.header, options.labelColumn, options.badRows, options.columns);
      const { flow, progress } = options;
      let parsed = 0;
      const sink: RowSink = {
        row(row) {
          subscriber.next(row);
          if (progress && row.index % 64 === 63) progress(bytes.progress(parsed), bytes.total, row.index + 1);
          if (flow?.blocked) return flow.ready();
        },
        get closed() {
          return subscriber.closed;
        },
        parsed(position) {
          parsed = position;
        },
      };
      if (options.parser === 'csv-parse') await readWithCsvParse(file, bytes.rest(), builder, sink, 0);
      else await readFast(file, bytes, builder, sink);
      if (subscriber.closed) return;
      if (builder.index === 0) {
        throw new AeflowError(
          'CSV_EMPTY',
          builder.sawHeader ? `${file}: has a header but no data rows` : `${file}: the file is empty`,
          'point the pipeline at a CSV with at least one data row',
        );
      }
      progress?.(bytes.total, bytes.total, builder.index);
      subscriber.complete();
    };
    run()
      .catch((e) => subscriber.error(e))
      .finally(() => (source as ByteSource | null)?.close());
    return () => {
      void (source as ByteSource | null)?.close();
    };
  });
}

/**
 * The bytes of a CSV: `-` is standard input; a gzip file (by its first bytes, whatever its name) is
 * decompressed as it streams; anything else is read as a plain file.
 */
export async function openCsv(file: string): Promise<ByteSource> {
  if (file === '-') return standardInput();
  const { size, gzip } = await statCsv(file);
  return gzip ? streamSource(file, createReadStream(file, { highWaterMark: 1 << 20 }), true, size) : fileSource(file, size);
}

/** Standard input, gzip or text by its first bytes (`zcat x.gz | aeflow encode --input -` works, and so does `< x.gz`). */
async function standardInput(): Promise<ByteSource> {
  const chunks = (process.stdin as AsyncIterable<Buffer>)[Symbol.asyncIterator]();
  const first = await chunks.next();
  const head = first.done ? Buffer.alloc(0) : (first.value as Buffer);
  async function* all() {
    if (head.length > 0) yield head;
    for (let c = await chunks.next(); !c.done; c = await chunks.next()) yield c.value as Buffer;
  }
  const gzip = head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b;
  return streamSource('standard input', Readable.from(all()), gzip, 0);
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
 * csv-parse over the chunks (the whole file, or what is left of it after the fast reader's last whole record);
 * line numbers count on from `linesBefore`, text positions from `bytesBefore`. csv-parse's core is driven one chunk at a time and the records it
 * found are handled before its error, so errors come in file order, as from the fast reader.
 */
async function readWithCsvParse(
  file: string,
  chunks: AsyncIterable<Buffer>,
  builder: RowBuilder,
  sink: RowSink,
  linesBefore: number,
  bytesBefore = 0,
): Promise<void> {
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
      sink.parsed(bytesBefore + info.bytes);
      const row = builder.fromStrings(record, linesBefore + info.lines);
      if (row) await sink.row(row);
    }
    if (error) throw translateParseError(file, error, linesBefore);
  };
  for await (const chunk of chunks) {
    if (sink.closed) return;
    await handle(chunk, false);
  }
  await handle(undefined, true);
}

/** The bytes a buffer still holds, then the rest of the source. */
async function* remaining(held: Buffer, source: ByteSource): AsyncIterable<Buffer> {
  if (held.length > 0) yield Buffer.from(held);
  yield* source.rest();
}

/** Bytes per read of the byte-level reader (the buffer grows for a longer line). */
const READ_BYTES = 1 << 20;

/**
 * The byte-level reader: splits lines on \n (dropping the \r of \r\n), fields on commas, and reads numbers
 * straight from the bytes. The first quote or stray carriage return hands the file from that record on to
 * csv-parse, so quoted fields keep csv-parse's rules; so does UTF-16 text. Reads into one buffer, reused: the
 * part of a line a read cut off moves to its start.
 */
async function readFast(file: string, source: ByteSource, builder: RowBuilder, sink: RowSink): Promise<void> {
  let buf = Buffer.alloc(READ_BYTES);
  /** Bytes of the text in buf; buf[0] is the text's byte `base`. */
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
  // csv-parse takes over from the record at buf[start], on the line after `linesBefore`.
  const handOver = (start: number, linesBefore = line - 1): Promise<void> =>
    readWithCsvParse(file, remaining(buf.subarray(start, held), source), builder, sink, linesBefore, base + start);

  for (;;) {
    if (held === buf.length) {
      // A line longer than the buffer: grow it.
      const bigger = Buffer.alloc(buf.length * 2);
      buf.copy(bigger, 0, 0, held);
      buf = bigger;
    }
    const bytesRead = await source.read(buf, held, buf.length - held);
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
      if (start < held && !(await record(bytes, start, held, false))) return await handOver(start);
      return;
    }
    for (let nl = bytes.indexOf(10, start); nl !== -1; nl = bytes.indexOf(10, start)) {
      sink.parsed(base + nl + 1);
      if (!(await record(bytes, start, nl, true))) return await handOver(start);
      if (sink.closed) return;
      start = nl + 1;
    }
    buf.copy(buf, 0, start, held);
    held -= start;
    base += start;
  }
}

/** Checks the path before streaming so a missing file or a folder gets a clear message. Returns its size. */
export async function statCsv(file: string): Promise<{ size: number; gzip: boolean }> {
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
  return { size: stat.size, gzip: await sniff(file) };
}

/**
 * Looks at the first bytes: gzip (whatever the file's name) is read through zlib, and binary data (NUL bytes in
 * what is not UTF-16 text) is not a CSV: saying so beats a row error about garbage. Returns whether it is gzip.
 */
async function sniff(file: string): Promise<boolean> {
  const handle = await fs.open(file, 'r');
  const head = Buffer.alloc(4096);
  let n: number;
  try {
    ({ bytesRead: n } = await handle.read(head, 0, head.length, 0));
  } finally {
    await handle.close();
  }
  if (n >= 2 && head[0] === 0x1f && head[1] === 0x8b) return true;
  const utf16 = n >= 2 && ((head[0] === 0xff && head[1] === 0xfe) || (head[0] === 0xfe && head[1] === 0xff));
  if (!utf16 && head.subarray(0, n).includes(0)) {
    throw new AeflowError(
      'CSV_NOT_TEXT',
      `${file}: holds binary data (NUL bytes in its first ${n} bytes), not CSV text`,
      'point the pipeline at a comma-separated text file',
    );
  }
  return false;
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
  // A pattern's shards share their header (the reader checks): the first one speaks for all.
  const row = await firstValueFrom(csvRows(isPattern(file) ? (await shardFiles(file))[0] : file, options));
  return { width: row.x.length, origin: row.origin };
}
