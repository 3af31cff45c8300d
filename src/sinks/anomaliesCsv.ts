import type { Batch } from '../rows.js';
import { CsvText } from './csvText.js';
import { PartialFile } from './partialFile.js';

/**
 * anomalies.csv, streamed in file order: per test row its index, line, label, the model's and PCA's
 * reconstruction errors, and `anomaly` = 1 above the threshold. The file takes its name only when complete.
 */
export class AnomaliesCsv {
  private readonly out: PartialFile;
  private readonly text = new CsvText();

  constructor(file: string) {
    this.out = new PartialFile(file, 'row,line,label,model_error,pca_error,anomaly');
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
    await this.out.write(text.take());
  }

  async close(): Promise<void> {
    await this.out.close();
  }

  async abort(): Promise<void> {
    await this.out.abort();
  }
}
