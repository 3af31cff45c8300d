import { once } from 'node:events';
import { createWriteStream, promises as fs, type WriteStream } from 'node:fs';

/**
 * An output file written aside as `FILE.partial` and renamed to FILE only when complete, so that a stopped or
 * failed command never leaves a file that looks whole. Writes wait when the disk is slower than the producer.
 */
export class PartialFile {
  private readonly partial: string;
  private readonly out: WriteStream;

  /** `header`: the first line, without its line end. */
  constructor(
    private readonly file: string,
    header: string,
  ) {
    this.partial = `${file}.partial`;
    this.out = createWriteStream(this.partial);
    this.out.write(`${header}\n`);
  }

  async write(chunk: string | Uint8Array): Promise<void> {
    if (!this.out.write(chunk)) await once(this.out, 'drain');
  }

  async close(): Promise<void> {
    this.out.end();
    await once(this.out, 'close');
    await fs.rename(this.partial, this.file);
  }

  async abort(): Promise<void> {
    this.out.destroy();
    await fs.rm(this.partial, { force: true });
  }
}
