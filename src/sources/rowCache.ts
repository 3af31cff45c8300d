import { createHash } from 'node:crypto';
import { closeSync, promises as fs, openSync, rmSync, writeSync } from 'node:fs';
import path from 'node:path';
import { defer, mergeAll, Observable } from 'rxjs';
import type { Row, RowOrigin } from '../rows.js';
import type { SkippedRows } from './badRows.js';
import { type CsvOptions, csvRows, statCsv } from './csv.js';

/** Bump when the binary layout or the parsing rules change: old caches are then never read. */
const FORMAT = 1;

export interface CacheOptions {
  /** The cache folder. */
  readonly dir: string;
  /** Cached files beyond this many bytes are evicted, least recently used first. */
  readonly maxBytes: number;
  /** Told where a pass reads from: the cache, or the CSV (writing the cache unless `write` is false). */
  readonly onSource?: (source: 'cache' | 'csv') => void;
  /** false: read a cache that exists, but make none (a single pass, as `encode`'s, gains nothing from writing one). */
  readonly write?: boolean;
}

interface CacheMeta {
  readonly format: number;
  readonly source: string;
  readonly rows: number;
  readonly width: number;
  readonly hasLabel: boolean;
  readonly header: string[] | null;
  readonly featureColumns: number[];
  /** A categorical feature's values by the ids the cached rows hold (see RowOrigin.categories). */
  readonly categories?: Array<string[] | null>;
  /** Rows the caching pass skipped (on_bad_row: skip): they are not in the cache, but are still reported. */
  readonly skipped?: SkippedRows;
}

/**
 * Rows of a CSV, from a binary cache of its parsed rows when there is one (like tf.data's `cache(filename)`),
 * else from the CSV, writing the cache as the rows stream by. The cache is keyed by the file's path, size and
 * modification time and by the parsing options, so a changed file or changed options never reuse a stale one.
 * It only appears once a pass has read the whole file without error (written aside, then renamed); a pass that
 * fails or stops early leaves nothing. Bounded on disk by `maxBytes`, least recently used first out.
 *
 * @example
 * cachedCsvRows('data/fashion_train.csv', { header: true, labelColumn: 'label' }, { dir: '.cache/aeflow', maxBytes: 4e9 })
 */
export function cachedCsvRows(file: string, options: CsvOptions, cache: CacheOptions): Observable<Row> {
  return defer(async () => {
    const write = cache.write !== false;
    if (write) await fs.mkdir(cache.dir, { recursive: true });
    const base = path.join(cache.dir, await cacheKey(file, options));
    const meta = await readMeta(base);
    cache.onSource?.(meta ? 'cache' : 'csv');
    if (meta) return readCached(file, base, meta, options);
    return write ? writeThrough(file, base, options, cache) : csvRows(file, options);
  }).pipe(mergeAll());
}

/** The cache key: file identity and every option that changes the parsed rows. */
export async function cacheKey(file: string, options: CsvOptions): Promise<string> {
  await statCsv(file);
  const real = await fs.realpath(file);
  const stat = await fs.stat(real);
  const identity = {
    format: FORMAT,
    file: real,
    size: stat.size,
    mtime: stat.mtimeMs,
    header: options.header,
    label: options.labelColumn,
    columns: options.columns ?? null,
  };
  return createHash('sha256').update(JSON.stringify(identity)).digest('hex').slice(0, 32);
}

async function readMeta(base: string): Promise<CacheMeta | null> {
  try {
    const meta = JSON.parse(await fs.readFile(`${base}.json`, 'utf8')) as CacheMeta;
    if (meta.format !== FORMAT) return null;
    const now = new Date();
    await fs.utimes(`${base}.json`, now, now); // recently used
    return meta;
  } catch {
    return null;
  }
}

/** Rows per read from the cache file, and per write to it. */
const READ_ROWS = 1024;
const WRITE_ROWS = 1024;

/**
 * Reads cached rows: per row a u32 line, an f32 label (NaN: none) and `width` f32 values. The rows' values are
 * views into one read buffer that the next read overwrites: a consumer that keeps a row past its `next` copies
 * it (the shuffle's window and batching do). One reused buffer, rather than a new chunk per read, keeps the main
 * thread's garbage collector from competing with training (`bench/run.mjs`, training section).
 */
function readCached(file: string, base: string, meta: CacheMeta, options: CsvOptions): Observable<Row> {
  return new Observable<Row>((subscriber) => {
    const record = 8 + 4 * meta.width;
    const origin: RowOrigin = { file, header: meta.header, featureColumns: meta.featureColumns, ...(meta.categories ? { categories: meta.categories } : {}) };
    const total = meta.rows * record;
    const run = async () => {
      if (meta.skipped && options.badRows) options.badRows.merge(meta.skipped);
      const handle = await fs.open(`${base}.rows`, 'r');
      try {
        const buf = readBuffers.take(record * READ_ROWS);
        let held = 0;
        let index = 0;
        let read = 0;
        for (;;) {
          const { bytesRead } = await handle.read(buf, held, buf.length - held, null);
          held += bytesRead;
          let p = 0;
          for (; p + record <= held; p += record) {
            if (subscriber.closed) return;
            const x = new Float32Array(buf.buffer, buf.byteOffset + p + 8, meta.width);
            const label = buf.readFloatLE(p + 4);
            subscriber.next({ origin, line: buf.readUInt32LE(p), index: index++, label: meta.hasLabel ? label : null, x });
            if (options.progress && index % 64 === 0) options.progress(read + p + record, total, index);
            if (options.flow?.blocked) await options.flow.ready();
          }
          read += p;
          buf.copy(buf, 0, p, held);
          held -= p;
          if (bytesRead === 0) break;
        }
        if (index !== meta.rows || held > 0) {
          throw new Error(
            `cache ${base}.rows holds ${index} rows${held > 0 ? ' and a partial one' : ''}, its index says ${meta.rows}: delete it (aeflow cache clear)`,
          );
        }
        options.progress?.(total, total, index);
        subscriber.complete();
        // Rows are views of the buffer only while they are handled: the next pass may have it.
        readBuffers.give(buf);
      } finally {
        await handle.close();
      }
    };
    run().catch((e) => subscriber.error(e));
  });
}

/**
 * Read buffers, reused from pass to pass: an evaluation reads the training split's cache many times, and a new
 * buffer each time left the process larger (`bench/run.mjs`, memory section). Each is its own memory, at
 * offset 0: every record then starts 4-byte aligned, as float32 views need.
 */
const readBuffers = {
  spare: [] as Buffer[],
  take(bytes: number): Buffer {
    const i = this.spare.findIndex((b) => b.length === bytes);
    return i >= 0 ? this.spare.splice(i, 1)[0] : Buffer.alloc(bytes);
  },
  give(buf: Buffer): void {
    // A few: the passes of one run read two or three files.
    if (this.spare.length < 4) this.spare.push(buf);
  },
};

/**
 * Streams the CSV and writes the cache beside it (see CacheWriter). The cache takes its name only after a
 * complete pass, before the pass completes downstream, so the next pass finds it.
 */
function writeThrough(file: string, base: string, options: CsvOptions, cache: CacheOptions): Observable<Row> {
  return new Observable<Row>((subscriber) => {
    const writer = new CacheWriter(file, base, options, cache);
    const subscription = csvRows(file, options).subscribe({
      next(row) {
        writer.add(row);
        subscriber.next(row);
      },
      error(e) {
        writer.abandon();
        subscriber.error(e);
      },
      complete() {
        writer.commit().then(
          () => subscriber.complete(),
          (e) => subscriber.error(e),
        );
      },
    });
    return () => {
      subscription.unsubscribe();
      writer.cancel();
    };
  });
}

/**
 * Where a cache writer stands: `empty` before the first row; `writing` records to its partial file;
 * `committing` once the pass is complete, while the files are renamed into place; `committed` when they are;
 * `abandoned` when it gave up (a failed or stopped pass, a full disk, a file too big), with nothing left behind.
 * `committed` and `abandoned` are final.
 */
type CacheWriterState = 'empty' | 'writing' | 'committing' | 'committed' | 'abandoned';

/** The first row's shape: what the cache's index records about every row. */
type RowShape = Pick<Row, 'origin'> & { readonly width: number; readonly hasLabel: boolean };

/**
 * Writes one pass's rows into a cache file aside (`<base>.rows.<unique>.partial`), renamed into place by
 * `commit`. Records are packed into one reused block, written synchronously when full: memory stays bounded
 * however slow the disk, and a pass makes no garbage per row. Any failure to write abandons the cache, never
 * the pass: the rows go on streaming from the CSV.
 */
class CacheWriter {
  private state: CacheWriterState = 'empty';
  /** Unique per writer: two runs caching the same file at once each write their own, the last rename wins. */
  private readonly unique = `${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
  private readonly partial: string;
  /** The partial file, open while `writing` (and `committing`, until it is closed). */
  private fd: number | null = null;
  private shape: RowShape | null = null;
  private block = Buffer.alloc(0);
  /** Bytes of `block` holding records not yet written. */
  private filled = 0;
  /** Bytes of records so far, written or in `block`. */
  private bytes = 0;
  private rows = 0;

  constructor(
    private readonly file: string,
    private readonly base: string,
    private readonly options: CsvOptions,
    private readonly cache: CacheOptions,
  ) {
    this.partial = `${base}.rows.${this.unique}.partial`;
  }

  /** Adds a row's record: a u32 line, an f32 label (NaN: none) and its values as f32. */
  add(row: Row): void {
    if (this.state === 'empty') this.open(row);
    if (this.state !== 'writing') return;
    const size = 8 + 4 * row.x.length;
    if (this.filled + size > this.block.length) this.flush();
    if (this.state !== 'writing') return;
    const at = this.filled;
    this.block.writeUInt32LE(row.line, at);
    this.block.writeFloatLE(row.label ?? Number.NaN, at + 4);
    new Float32Array(this.block.buffer, this.block.byteOffset + at + 8, row.x.length).set(row.x);
    this.filled += size;
    this.bytes += size;
    this.rows++;
    // Too big for the cache: stop caching this file, keep streaming it.
    if (this.bytes > this.cache.maxBytes) this.abandon();
  }

  /**
   * The pass read the whole file: writes what is left, closes the file and renames it and its index into place
   * (the index last: a cache is only read once its index exists). Never rejects for want of a cache.
   */
  async commit(): Promise<void> {
    if (this.state !== 'writing') return this.abandon();
    this.state = 'committing';
    try {
      const meta = this.meta(this.shape as RowShape);
      this.flush();
      if (this.fd === null) return; // the last write failed, and flush gave up
      closeSync(this.fd);
      this.fd = null;
      await fs.rename(this.partial, `${this.base}.rows`);
      await fs.writeFile(`${this.base}.json.${this.unique}.partial`, JSON.stringify(meta));
      await fs.rename(`${this.base}.json.${this.unique}.partial`, `${this.base}.json`);
      this.state = 'committed';
      await evict(this.cache);
    } catch {
      this.abandon();
    }
  }

  /** The pass stopped: gives up, unless it had read the whole file (then `commit` goes on). */
  cancel(): void {
    if (this.state === 'empty' || this.state === 'writing') this.abandon();
  }

  /** Stops writing and removes the partial file. */
  abandon(): void {
    if (this.state === 'committed') return;
    this.state = 'abandoned';
    if (this.fd === null) return;
    const open = this.fd;
    this.fd = null;
    try {
      closeSync(open);
    } finally {
      rmSync(this.partial, { force: true });
    }
  }

  private open(first: Row): void {
    this.shape = { origin: first.origin, width: first.x.length, hasLabel: first.label !== null };
    try {
      this.fd = openSync(this.partial, 'w');
    } catch {
      this.state = 'abandoned';
      return;
    }
    this.block = Buffer.alloc((8 + 4 * first.x.length) * WRITE_ROWS);
    this.state = 'writing';
  }

  private flush(): void {
    if (this.fd === null) return;
    try {
      for (let at = 0; at < this.filled; ) at += writeSync(this.fd, this.block, at, this.filled - at);
    } catch {
      // A full disk or a lost folder: stop caching this file, keep streaming it.
      this.abandon();
    }
    this.filled = 0;
  }

  private meta(shape: RowShape): CacheMeta {
    const { badRows } = this.options;
    return {
      format: FORMAT,
      source: this.file,
      rows: this.rows,
      width: shape.width,
      hasLabel: shape.hasLabel,
      header: shape.origin.header ? [...shape.origin.header] : null,
      featureColumns: [...shape.origin.featureColumns],
      ...(shape.origin.categories ? { categories: shape.origin.categories.map((c) => (c ? [...c] : null)) } : {}),
      skipped: badRows ? { ...badRows.skipped, lines: [...badRows.skipped.lines] } : undefined,
    };
  }
}

export interface CacheEntry {
  readonly key: string;
  readonly source: string;
  readonly rows: number;
  readonly bytes: number;
  readonly used: Date;
}

/** The complete caches in a folder, most recently used first. */
export async function listCache(dir: string): Promise<CacheEntry[]> {
  let names: string[];
  try {
    names = await fs.readdir(dir);
  } catch {
    return [];
  }
  const entries: CacheEntry[] = [];
  for (const name of names.filter((n) => n.endsWith('.json'))) {
    const key = name.slice(0, -'.json'.length);
    try {
      const meta = JSON.parse(await fs.readFile(path.join(dir, name), 'utf8')) as CacheMeta;
      const [json, rows] = await Promise.all([fs.stat(path.join(dir, name)), fs.stat(path.join(dir, `${key}.rows`))]);
      entries.push({ key, source: meta.source, rows: meta.rows, bytes: rows.size + json.size, used: json.mtime });
    } catch {
      // an incomplete entry: evict() and clear remove it
    }
  }
  return entries.sort((a, b) => b.used.getTime() - a.used.getTime());
}

/** Removes least recently used caches until the folder holds at most `maxBytes`. */
export async function evict(cache: CacheOptions): Promise<string[]> {
  const entries = await listCache(cache.dir);
  let total = entries.reduce((n, e) => n + e.bytes, 0);
  const removed: string[] = [];
  for (const e of [...entries].reverse()) {
    if (total <= cache.maxBytes) break;
    await removeEntry(cache.dir, e.key);
    total -= e.bytes;
    removed.push(e.key);
  }
  return removed;
}

/** Deletes every cache file in the folder (and only aeflow's: *.rows, *.json and their partial files). */
export async function clearCache(dir: string): Promise<number> {
  let names: string[];
  try {
    names = await fs.readdir(dir);
  } catch {
    return 0;
  }
  const ours = names.filter((n) => /^[0-9a-f]{32}\.(rows|json)(\.[0-9a-z-]+\.partial)?$/.test(n));
  let bytes = 0;
  for (const n of ours) {
    const file = path.join(dir, n);
    bytes += (await fs.stat(file)).size;
    await fs.rm(file, { force: true });
  }
  return bytes;
}

async function removeEntry(dir: string, key: string): Promise<void> {
  await fs.rm(path.join(dir, `${key}.json`), { force: true });
  await fs.rm(path.join(dir, `${key}.rows`), { force: true });
}
