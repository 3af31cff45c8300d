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
  const identity = { format: FORMAT, file: real, size: stat.size, mtime: stat.mtimeMs, header: options.header, label: options.labelColumn };
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
 * it (the shuffle's window and batching do). Reusing the buffer, rather than a new 3 MB chunk per read, spares
 * the main thread's garbage collector ~190 MB of short-lived memory per epoch of the reference data, which
 * started a full collection every ~250 ms.
 */
function readCached(file: string, base: string, meta: CacheMeta, options: CsvOptions): Observable<Row> {
  return new Observable<Row>((subscriber) => {
    const record = 8 + 4 * meta.width;
    const origin: RowOrigin = { file, header: meta.header, featureColumns: meta.featureColumns };
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
 * Read buffers, reused from pass to pass: an evaluation reads the training split's cache ten times, and a new
 * 3 MB buffer each time was garbage enough to leave the process ~30 MB larger (`bench/` memory runs).
 * Each is its own memory, at offset 0: every record then starts 4-byte aligned, as float32 views need.
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
 * Streams the CSV and writes the cache beside it. The cache takes its name only after a complete pass, before
 * the pass completes downstream (so the next pass finds it); a failed or stopped pass removes what it wrote.
 * Records are packed into one reused block, written synchronously when full: memory stays bounded however slow
 * the disk, and a pass makes no garbage per row.
 */
function writeThrough(file: string, base: string, options: CsvOptions, cache: CacheOptions): Observable<Row> {
  return new Observable<Row>((subscriber) => {
    // Unique per writer: two runs caching the same file at once each write their own, the last rename wins.
    const unique = `${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
    const partial = `${base}.rows.${unique}.partial`;
    let fd: number | null = null;
    let block = Buffer.alloc(0);
    let filled = 0;
    let written = 0;
    let first: Row | null = null;
    let rows = 0;
    let done = false;
    // Stops writing and removes the partial file.
    const abandon = () => {
      written = -1;
      if (fd === null) return;
      const open = fd;
      fd = null;
      try {
        closeSync(open);
      } finally {
        rmSync(partial, { force: true });
      }
    };
    const flush = () => {
      if (fd === null) return;
      try {
        for (let at = 0; at < filled; ) at += writeSync(fd, block, at, filled - at);
      } catch {
        // A full disk or a lost folder: stop caching this file, keep streaming it.
        abandon();
      }
      filled = 0;
    };
    const commit = async (start: Row) => {
      const meta: CacheMeta = {
        format: FORMAT,
        source: file,
        rows,
        width: start.x.length,
        hasLabel: start.label !== null,
        header: start.origin.header ? [...start.origin.header] : null,
        featureColumns: [...start.origin.featureColumns],
        skipped: options.badRows ? { ...options.badRows.skipped, lines: [...options.badRows.skipped.lines] } : undefined,
      };
      flush();
      if (fd === null) return;
      closeSync(fd);
      fd = null;
      await fs.rename(partial, `${base}.rows`);
      await fs.writeFile(`${base}.json.${unique}.partial`, JSON.stringify(meta));
      await fs.rename(`${base}.json.${unique}.partial`, `${base}.json`);
      await evict(cache);
    };
    const subscription = csvRows(file, options).subscribe({
      next(row) {
        if (written >= 0) {
          const size = 8 + 4 * row.x.length;
          if (fd === null) {
            first = { ...row, x: row.x.slice() };
            try {
              fd = openSync(partial, 'w');
            } catch {
              written = -1;
            }
            block = Buffer.alloc(size * WRITE_ROWS);
          }
          if (fd !== null) {
            if (filled + size > block.length) flush();
            block.writeUInt32LE(row.line, filled);
            block.writeFloatLE(row.label ?? Number.NaN, filled + 4);
            new Float32Array(block.buffer, block.byteOffset + filled + 8, row.x.length).set(row.x);
            filled += size;
            written += size;
            rows++;
            // Too big for the cache: stop caching this file, keep streaming it.
            if (written > cache.maxBytes) abandon();
          }
        }
        subscriber.next(row);
      },
      error(e) {
        done = true;
        abandon();
        subscriber.error(e);
      },
      complete() {
        done = true;
        if (written < 0 || fd === null || !first) {
          abandon();
          subscriber.complete();
          return;
        }
        commit(first).then(
          () => subscriber.complete(),
          () => {
            abandon();
            subscriber.complete();
          },
        );
      },
    });
    return () => {
      subscription.unsubscribe();
      if (!done) abandon();
    };
  });
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
