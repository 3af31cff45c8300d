import { createReadStream, promises as fs } from 'node:fs';
import { createGunzip, type ZlibOptions } from 'node:zlib';
import { AeflowError } from '../errors.js';

/**
 * Where a CSV reader's bytes come from, read front to back: a plain file, a gzip file decompressed as it
 * streams, or standard input (`-`). The readers ask for bytes into their own buffer, and hand whatever is left
 * to csv-parse when a record needs its rules.
 */
export interface ByteSource {
  /** Reads up to `length` bytes into `buf` at `offset`; 0 at the end. */
  read(buf: Buffer, offset: number, length: number): Promise<number>;
  /** The bytes not read yet, as chunks, from where `read` stopped. */
  rest(): AsyncIterable<Buffer>;
  /**
   * How far the source is, in the units of `total`: given the text position a reader has parsed to, for a plain
   * file that position itself; for gzip, the compressed bytes taken so far.
   */
  progress(parsed: number): number;
  /** The whole source in those units, or 0 when unknown (standard input). */
  readonly total: number;
  close(): Promise<void>;
}

/** A plain file, read at positions: no stream machinery on the hot path. */
export async function fileSource(file: string, size: number): Promise<ByteSource> {
  const handle = await fs.open(file, 'r');
  let position = 0;
  return {
    total: size,
    async read(buf, offset, length) {
      const { bytesRead } = await handle.read(buf, offset, length, position);
      position += bytesRead;
      return bytesRead;
    },
    rest: () => createReadStream(file, { highWaterMark: 1 << 20, start: position }),
    progress: (parsed) => parsed,
    close: () => handle.close().catch(() => undefined),
  };
}

/**
 * A stream of chunks read into the caller's buffer; gzip is decompressed on the way (zlib works on libuv's
 * threads, beside the parsing). `compressed` counts the bytes taken from the file, for progress.
 */
export function streamSource(label: string, input: NodeJS.ReadableStream & { bytesRead?: number; destroy(): void }, gzip: boolean, total: number): ByteSource {
  // Large output chunks: zlib then decompresses ahead, on its own thread, while the reader parses.
  const gunzip = gzip ? createGunzip({ chunkSize: 1 << 20, highWaterMark: 4 << 20 } as ZlibOptions) : null;
  const stream = gunzip ? input.pipe(gunzip) : input;
  const chunks = (stream as AsyncIterable<Buffer>)[Symbol.asyncIterator]();
  let chunk: Buffer | null = null;
  let at = 0;
  const failed = (e: unknown) =>
    gzip && e instanceof Error && 'code' in e && String((e as NodeJS.ErrnoException).code).startsWith('Z_')
      ? new AeflowError(
          'CSV_GZIP_INVALID',
          `${label}: is not a valid gzip file (${e.message})`,
          `check the file (gzip -t ${label}); decompress it again or download it again`,
        )
      : e;
  const next = async (): Promise<Buffer | null> => {
    try {
      const r = await chunks.next();
      return r.done ? null : (r.value as Buffer);
    } catch (e) {
      throw failed(e);
    }
  };
  return {
    total,
    async read(buf, offset, length) {
      while (!chunk || at >= chunk.length) {
        chunk = await next();
        at = 0;
        if (!chunk) return 0;
      }
      const n = Math.min(length, chunk.length - at);
      chunk.copy(buf, offset, at, at + n);
      at += n;
      return n;
    },
    async *rest() {
      if (chunk && at < chunk.length) yield chunk.subarray(at);
      chunk = null;
      for (let c = await next(); c; c = await next()) yield c;
    },
    progress: () => input.bytesRead ?? 0,
    async close() {
      input.destroy();
      gunzip?.destroy();
    },
  };
}
