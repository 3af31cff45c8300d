import { createReadStream } from 'node:fs';
import { createGunzip } from 'node:zlib';
import { parse } from 'csv-parse/sync';
import type { Redis } from 'ioredis';
import { concat, defer, EMPTY, map, Observable, type Subscription, catchError, tap, throwError } from 'rxjs';
import type { Pipeline } from '../config/schema.js';
import { AeflowError } from '../errors.js';
import type { Row } from '../rows.js';
import { BadRows, type SkippedRows } from '../sources/badRows.js';
import { csvRows } from '../sources/csv.js';
import type { FlowControl } from '../sources/flowControl.js';
import { connectRedis, parseStreamUrl, type StreamAddress, StreamCursor, type StreamEntry } from '../sources/redisStream.js';
import type { StreamPosition } from '../types.js';
import { type DataSource, modelFeatures } from './dataflow.js';
import { csvField } from '../sinks/csvText.js';

/** Entries per XREAD: one CSV text parsed at a time, so that memory holds one chunk beyond the flow's bound. */
const CHUNK = 1000;
/** How long one XREAD waits for entries before the feed looks at its stop signal again. */
const BLOCK_MS = 1000;

export interface FeedOptions {
  /** Under `on_bad_row: skip` (and `missing: skip`), where the entries skipped are counted. */
  readonly badRows?: BadRows;
  readonly flow?: FlowControl;
  /** Ends the rows early, without a whole epoch, when it aborts while the feed waits for entries. */
  readonly signal?: AbortSignal;
}

const encoder = new TextEncoder();

/**
 * A Redis stream as a training split: each epoch is the next `train.rows_per_epoch` entries after the last one
 * consumed (XREAD from an ID the feed keeps, no consumer group), each entry's `row` a CSV record in the test CSV's
 * columns. The records go through the reader, the preprocessing or division by data.scale, as a file's rows do.
 * Only whole epochs are consumed (`commit`): the checkpoint records `at`, and a resumed run `seek`s to it.
 */
export class StreamFeed {
  private position: StreamPosition = { lastId: '0-0', lastEpochFrom: null, entries: 0 };
  /** The ID of the last entry of the epoch being read, once a pass has read every entry of it. */
  private read: string | null = null;

  private constructor(
    private readonly redis: Redis,
    private readonly cursor: StreamCursor,
    readonly rowsPerEpoch: number,
    /** The test CSV's header line (or numbered names): put before each chunk, it holds records to the column count. */
    private readonly header: Uint8Array,
  ) {}

  /** Connects to the stream of data.train (REDIS_UNAVAILABLE when it cannot) and reads the test CSV's columns. */
  static async open(config: Pipeline, log: (line: string) => void): Promise<StreamFeed> {
    const address = parseStreamUrl(config.data.train, 'data.train');
    const fields = await firstRecord(config.data.test);
    const names = config.data.header ? fields : fields.map((_, c) => `column ${c + 1}`);
    const header = encoder.encode(`${names.map(csvField).join(',')}\n`);
    const redis = await connectRedis(address, log, 'the run goes on from the entry it had reached');
    return new StreamFeed(redis, new StreamCursor(redis, address), config.train.rows_per_epoch ?? 1, header);
  }

  get address(): StreamAddress {
    return this.cursor.address;
  }

  /** How far the run has consumed the stream (what a checkpoint records). */
  get at(): StreamPosition {
    return this.position;
  }

  /** Goes on from a checkpoint's position. */
  seek(position: StreamPosition): void {
    this.position = position;
    this.read = null;
  }

  /** Whether the last `epochRows` read every entry of its epoch (not when a stop ended it early). */
  get epochRead(): boolean {
    return this.read !== null;
  }

  /** The next epoch's rows, the entries after the last one consumed; `commit` consumes them once they trained. */
  epochRows(source: DataSource, options: FeedOptions = {}): Observable<Row> {
    this.read = null;
    return this.entryRows(this.position.lastId, source, options, (last) => (this.read = last));
  }

  /** The epoch just read is consumed: the next one starts after its last entry. */
  commit(): void {
    if (this.read === null) throw new Error('StreamFeed.commit: the epoch was not read whole');
    this.position = { lastId: this.read, lastEpochFrom: this.position.lastId, entries: this.position.entries + this.rowsPerEpoch };
    this.read = null;
  }

  /**
   * The stream's first `rows_per_epoch` entries as raw rows (waiting for them while there are fewer), consuming
   * nothing: what the statistics pass fits a tabular pipeline's preprocessing on, the first epoch's entries.
   */
  firstRows(source: DataSource, options: FeedOptions = {}): Observable<Row> {
    let whole = false;
    // Statistics of fewer entries would be saved with the run and kept on resume: a stop here ends the run instead.
    const stopped = defer(() =>
      whole
        ? EMPTY
        : throwError(
            () =>
              new AeflowError(
                'INTERRUPTED',
                `stopped while waiting for the first ${this.rowsPerEpoch} entries of ${this.address.text} to fit the preprocessing on; nothing was trained or written`,
                'start the run again once the stream holds them',
              ),
          ),
    );
    return concat(
      this.entryRows('0-0', source, options, () => (whole = true)),
      stopped,
    );
  }

  /**
   * The last whole epoch's entries (read again with XRANGE) as one CSV text in memory: the training split that the
   * evaluation and the anomaly threshold read, since a stream's earlier entries are not read again.
   */
  async lastEpochSource(source: DataSource): Promise<DataSource> {
    const from = this.position.lastEpochFrom;
    if (from === null) throw new Error('StreamFeed.lastEpochSource: no epoch was consumed');
    const lines: string[] = [];
    let after = from;
    for (let left = this.rowsPerEpoch; left > 0; ) {
      const entries = await this.cursor.range(after, Math.min(CHUNK, left));
      if (entries.length === 0) break;
      for (const e of entries) if (!this.problem(e)) lines.push(e.row as string);
      left -= entries.length;
      after = entries[entries.length - 1].id;
    }
    const text = concatBytes(this.header, encoder.encode(lines.join('\n')));
    return { ...source, file: this.address.text, header: true, cache: null, text };
  }

  close(): void {
    this.redis.disconnect();
  }

  /**
   * `rows_per_epoch` entries after `after` as rows, a chunk (one XREAD) at a time: the next chunk is read once the
   * rows of the last one are taken, so the flow's bound holds. `done` hears the last entry's ID when all were read.
   */
  private entryRows(after: string, source: DataSource, options: FeedOptions, done: (last: string) => void): Observable<Row> {
    return new Observable<Row>((subscriber) => {
      let inner: Subscription | null = null;
      let stopped = false;
      const run = async () => {
        let id = after;
        let offset = 0;
        while (offset < this.rowsPerEpoch && !stopped && !options.signal?.aborted) {
          const entries = await this.cursor.readAfter(id, Math.min(CHUNK, this.rowsPerEpoch - offset), BLOCK_MS);
          if (entries.length === 0 || stopped) continue;
          const rows$ = this.chunkRows(entries, offset, source, options);
          await new Promise<void>((resolve, reject) => {
            inner = rows$.subscribe({ next: (row) => subscriber.next(row), error: reject, complete: resolve });
          });
          id = entries[entries.length - 1].id;
          offset += entries.length;
        }
        if (offset === this.rowsPerEpoch) done(id);
      };
      run().then(
        () => subscriber.complete(),
        (e) => subscriber.error(e),
      );
      return () => {
        stopped = true;
        inner?.unsubscribe();
      };
    });
  }

  /**
   * One chunk's records as rows: read as one CSV text after the header line, through the source's preprocessing.
   * A row's `index` and `line` are its entry's place in the epoch (0- and 1-based); errors name the entry's ID.
   */
  private chunkRows(entries: readonly StreamEntry[], offset: number, source: DataSource, options: FeedOptions): Observable<Row> {
    const skip = source.onBadRow === 'skip';
    const good: number[] = [];
    let failure: AeflowError | null = null;
    for (const [k, e] of entries.entries()) {
      const problem = this.problem(e);
      if (!problem) good.push(k);
      else if (skip) options.badRows?.add(offset + k + 1, problem);
      else {
        // The records before it are read first: an error in one of them is the first error.
        failure = problem;
        break;
      }
    }
    const rows$ = good.length === 0 ? EMPTY : this.goodRows(entries, good, offset, source, options);
    return failure
      ? concat(
          rows$,
          throwError(() => failure),
        )
      : rows$;
  }

  /** The records of `entries` at `good` as rows (see chunkRows). */
  private goodRows(entries: readonly StreamEntry[], good: readonly number[], offset: number, source: DataSource, options: FeedOptions): Observable<Row> {
    const skip = source.onBadRow === 'skip';
    const text = concatBytes(this.header, encoder.encode(good.map((k) => entries[k].row).join('\n')));
    const local = new BadRows();
    const name = this.address.text;
    const csv = { header: true, labelColumn: source.labelColumn, parser: source.parser, flow: options.flow, columns: source.columns, text };
    const entryAt = (line: number) => good[line - 2];
    return csvRows(name, { ...csv, badRows: skip ? local : undefined }).pipe(
      modelFeatures(source, skip || source.skipMissing ? local : undefined),
      map((row) => ({ ...row, index: offset + entryAt(row.line), line: offset + entryAt(row.line) + 1 })),
      catchError((e) => throwError(() => atEntry(e, name, (line) => entries[entryAt(line)]?.id))),
      tap({ complete: () => options.badRows?.merge(skippedAt(local.skipped, name, offset, entryAt, (k) => entries[k].id)) }),
    );
  }

  /** What is wrong with an entry before its record is parsed: no `row` field, an empty one, a line break in it. */
  private problem(entry: StreamEntry): AeflowError | null {
    const where = `${this.address.text} entry ${entry.id}`;
    if (entry.row === null) {
      return new AeflowError(
        'STREAM_ENTRY_INVALID',
        `${where}: has no field "row" (its fields: ${entry.fields.join(', ') || 'none'})`,
        'each entry holds one CSV record in the field "row": XADD STREAM * row "v1,v2,..."',
      );
    }
    if (entry.row.length === 0 || /[\r\n]/.test(entry.row)) {
      const what = entry.row.length === 0 ? 'is empty' : 'holds a line break';
      return new AeflowError('STREAM_ENTRY_INVALID', `${where}: its row ${what}`, 'an entry holds one CSV record, on one line, in the field "row"');
    }
    return null;
  }
}

/** A reader's error at `name:LINE[:COLUMN]` as the entry's: `name entry ID: …` (other errors as they are). */
function atEntry(e: unknown, name: string, idAt: (line: number) => string | undefined): unknown {
  if (!(e instanceof AeflowError) || !e.message.startsWith(`${name}:`)) return e;
  const m = /^(\d+)(?::\d+)?: (.*)$/s.exec(e.message.slice(name.length + 1));
  const id = m ? idAt(Number(m[1])) : undefined;
  if (!m || id === undefined) return e;
  const err = new AeflowError(e.code, `${name} entry ${id}: ${m[2]}`, e.hint);
  err.stack = e.stack;
  return err;
}

/** What a chunk's reader skipped, its lines as the entries' places in the epoch and its first message naming the entry. */
function skippedAt(s: SkippedRows, name: string, offset: number, entryAt: (line: number) => number, idOf: (k: number) => string): SkippedRows {
  const first = s.first === null ? null : (atEntry(new AeflowError('CSV_ROW_INVALID', s.first), name, (line) => idOf(entryAt(line))) as Error).message;
  return { count: s.count, lines: s.lines.map((line) => offset + entryAt(line) + 1), first };
}

function concatBytes(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

/** The first record of a CSV (its header, when it has one): the column layout a stream's records follow. */
async function firstRecord(file: string): Promise<string[]> {
  const input = createReadStream(file);
  const bytes = file.endsWith('.gz') ? input.pipe(createGunzip()) : input;
  let text = '';
  try {
    for await (const chunk of bytes) {
      text += (chunk as Buffer).toString('utf8');
      if (text.includes('\n')) break;
    }
  } finally {
    input.destroy();
  }
  const line = text
    .split('\n')[0]
    .replace(/\r$/, '')
    .replace(/^\uFEFF/, '');
  return (parse(line, { relax_quotes: true }) as string[][])[0] ?? [];
}
