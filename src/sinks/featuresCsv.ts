import { createWriteStream, promises as fs } from 'node:fs';
import { once } from 'node:events';

/**
 * Writes codes as CSV (`label,z1,…,zK`, the label column only when the input had labels), streaming, in the
 * order rows are given. The file takes its name only when complete.
 */
export class FeaturesCsv {
  private readonly partial: string;
  private readonly out;
  private rows = 0;

  constructor(
    private readonly file: string,
    codeSize: number,
    private readonly withLabels: boolean,
  ) {
    this.partial = `${file}.partial`;
    this.out = createWriteStream(this.partial);
    const names = Array.from({ length: codeSize }, (_, i) => `z${i + 1}`);
    this.out.write((withLabels ? ['label', ...names] : names).join(',') + '\n');
  }

  /** Appends `rows` codes of `cols` values each; waits when the disk is slower than the encoder. */
  async write(codes: Float32Array, cols: number, labels: Float32Array | null): Promise<void> {
    let text = '';
    const n = codes.length / cols;
    for (let r = 0; r < n; r++) {
      const row = Array.prototype.join.call(codes.subarray(r * cols, (r + 1) * cols), ',');
      text += this.withLabels ? `${labels ? labels[r] : ''},${row}\n` : `${row}\n`;
    }
    this.rows += n;
    if (!this.out.write(text)) await once(this.out, 'drain');
  }

  async close(): Promise<number> {
    this.out.end();
    await once(this.out, 'close');
    await fs.rename(this.partial, this.file);
    return this.rows;
  }

  async abort(): Promise<void> {
    this.out.destroy();
    await fs.rm(this.partial, { force: true });
  }
}
