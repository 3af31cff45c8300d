import { once } from 'node:events';
import { createWriteStream, promises as fs } from 'node:fs';
import type { Batch } from '../rows.js';
import { CsvText } from './csvText.js';

/**
 * anomalies.csv, streamed in file order: per test row its index, line, label, the model's and PCA's
 * reconstruction errors, and `anomaly` = 1 above the threshold. The file takes its name only when complete.
 */
export class AnomaliesCsv {
  private readonly partial: string;
  private readonly out;
  private readonly text = new CsvText();

  constructor(private readonly file: string) {
    this.partial = `${file}.partial`;
    this.out = createWriteStream(this.partial);
    this.out.write('row,line,label,model_error,pca_error,anomaly\n');
  }

  async write(b: Batch, errors: Float32Array, pcaErrors: Float32Array, threshold: number): Promise<void> {
    const { text } = this;
    for (let r = 0; r < b.rows; r++) {
      text.int(b.indices[r]);
      text.comma();
      text.int(b.lines[r]);
      text.comma();
      const label = b.labels ? b.labels[r] : Number.NaN;
      if (Number.isInteger(label)) text.int(label);
      else if (!Number.isNaN(label)) text.number(label);
      text.comma();
      text.number(errors[r]);
      text.comma();
      text.number(pcaErrors[r]);
      text.comma();
      text.int(errors[r] > threshold ? 1 : 0);
      text.newline();
    }
    if (!this.out.write(text.take())) await once(this.out, 'drain');
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
