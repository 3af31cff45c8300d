import { CsvText } from './csvText.js';
import { PartialFile } from './partialFile.js';

/**
 * Writes codes as CSV (`label,z1,…,zK`, the label column only when the input had labels), streaming, in the
 * order rows are given. The file takes its name only when complete.
 */
export class FeaturesCsv {
  private readonly out: PartialFile;
  private readonly text = new CsvText();
  private rows = 0;

  constructor(
    file: string,
    codeSize: number,
    private readonly withLabels: boolean,
  ) {
    const names = Array.from({ length: codeSize }, (_, i) => `z${i + 1}`);
    this.out = new PartialFile(file, (withLabels ? ['label', ...names] : names).join(','));
  }

  /** Appends `rows` codes of `cols` values each; waits when the disk is slower than the encoder. */
  async write(codes: Float32Array, cols: number, labels: Float32Array | null): Promise<void> {
    await this.writeText(featureRows(this.text, codes, cols, this.withLabels ? labels : undefined), codes.length / cols);
  }

  /** Appends rows already written as CSV text (by `featureRows`, in a worker). */
  async writeText(text: Uint8Array, rows: number): Promise<void> {
    this.rows += rows;
    await this.out.write(text);
  }

  get withLabelColumn(): boolean {
    return this.withLabels;
  }

  async close(): Promise<number> {
    await this.out.close();
    return this.rows;
  }

  async abort(): Promise<void> {
    await this.out.abort();
  }
}

/**
 * Rows of codes as CSV text: `label,z1,…,zK` per row, the label column when `labels` is given (null: the rows
 * have none, an empty field), else `z1,…,zK`. `encode`'s workers write their batches' text with it, so the
 * conversion of hundreds of numbers per row runs beside the encoding, not on the main thread.
 */
export function featureRows(text: CsvText, codes: Float32Array, cols: number, labels: Float32Array | null | undefined): Buffer {
  const n = codes.length / cols;
  for (let r = 0; r < n; r++) {
    if (labels !== undefined) {
      // A label is a number as the CSV held it; a row without one has an empty label.
      const label = labels ? labels[r] : Number.NaN;
      if (Number.isInteger(label)) text.int(label);
      else if (!Number.isNaN(label)) text.number(label);
      text.comma();
    }
    for (let j = 0; j < cols; j++) {
      if (j > 0) text.comma();
      text.number(codes[r * cols + j]);
    }
    text.newline();
  }
  return text.take();
}
