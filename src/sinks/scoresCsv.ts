import type { Batch } from '../rows.js';
import { CsvText, csvField as field } from './csvText.js';
import { PartialFile } from './partialFile.js';

/**
 * scores.csv, streamed in input order: per row its index, line, label (when the input has labels), its
 * reconstruction error, `anomaly` (1 above the model's threshold), and the input columns that contribute most
 * to its error with their shares of it. The file takes its name only when complete.
 */
export class ScoresCsv {
  private readonly out: PartialFile;
  private readonly text = new CsvText();
  rows = 0;

  constructor(
    file: string,
    private readonly names: readonly string[],
    private readonly withLabels: boolean,
    private readonly top: number,
  ) {
    const tops = Array.from({ length: top }, (_, k) => [`column_${k + 1}`, `share_${k + 1}`]).flat();
    this.out = new PartialFile(file, ['row', 'line', ...(withLabels ? ['label'] : []), 'error', 'anomaly', ...tops].join(','));
  }

  async write(b: Batch, errors: Float32Array, columns: Int32Array, shares: Float32Array, threshold: number): Promise<void> {
    const { text, top } = this;
    for (let r = 0; r < b.rows; r++) {
      text.int(b.indices[r]);
      text.comma();
      text.int(b.lines[r]);
      text.comma();
      if (this.withLabels) {
        const label = b.labels ? b.labels[r] : Number.NaN;
        if (!Number.isNaN(label)) text.number(label);
        text.comma();
      }
      text.number(errors[r]);
      text.comma();
      text.int(errors[r] > threshold ? 1 : 0);
      for (let k = 0; k < top; k++) {
        const c = columns[r * top + k];
        text.comma();
        if (c >= 0) text.text(field(this.names[c]));
        text.comma();
        if (c >= 0) text.number(shares[r * top + k]);
      }
      text.newline();
    }
    this.rows += b.rows;
    await this.out.write(text.take());
  }

  async close(): Promise<void> {
    await this.out.close();
  }

  async abort(): Promise<void> {
    await this.out.abort();
  }
}
