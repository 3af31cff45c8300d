import { once } from 'node:events';
import { createWriteStream, promises as fs } from 'node:fs';
import path from 'node:path';
import { concatMap, defer, finalize, lastValueFrom } from 'rxjs';
import type { BackendChoice } from '../backend.js';
import { AeflowError } from '../errors.js';
import { halfMse, Pca } from '../models/pca.js';
import { batchRows } from '../operators/batchRows.js';
import { normalize } from '../operators/normalize.js';
import type { Batch } from '../rows.js';
import { BadRows, type SkippedRows } from '../sources/badRows.js';
import { csvRows } from '../sources/csv.js';
import { FlowControl } from '../sources/flowControl.js';
import { WorkerPool } from '../workers/pool.js';

export interface EvaluateOptions {
  /** A run's model folder (holding autoencoder/ and encoder/). */
  readonly model: string;
  readonly train: string;
  readonly test: string;
  /** Where evaluation.json and anomalies.csv go. */
  readonly out: string;
  /** PCA components; the model's code size when left out (the fair comparison). */
  readonly components?: number;
  /** The anomaly threshold: this percentile of the training rows' reconstruction errors. */
  readonly percentile: number;
  readonly header: boolean;
  readonly labelColumn: string | number | null;
  readonly scale: number | null;
  readonly onBadRow: 'error' | 'skip';
  readonly batch: number;
  readonly backend: BackendChoice;
}

export interface Evaluation {
  model: string;
  code_size: number;
  train_rows: number;
  test_rows: number;
  /** 0.5·mean squared error on the test rows: the model, and PCA with `pca_components` fitted on the training rows. */
  model_test_loss: number;
  pca_test_loss: number;
  pca_components: number;
  /** model / PCA: below 1, the autoencoder reconstructs better than PCA. */
  model_vs_pca: number;
  anomaly: { percentile: number; threshold: number; flagged: number; file: string };
  skipped_rows?: { train: SkippedRows; test: SkippedRows };
  backend: string;
}

/**
 * How good is a trained autoencoder? Streams the training CSV once (fitting PCA from streamed sums and collecting
 * the model's per-row errors for the anomaly threshold) and the test CSV once (the model's and PCA's reconstruction
 * errors per row, written to anomalies.csv with the rows above the threshold flagged).
 */
export async function evaluateModel(options: EvaluateOptions): Promise<Evaluation> {
  const pool = WorkerPool.create(1);
  try {
    const encoder = await pool.call(0, { kind: 'load', backend: options.backend, model: path.join(options.model, 'encoder') });
    const model = await pool.call(0, { kind: 'load', backend: options.backend, model: path.join(options.model, 'autoencoder') });
    const k = options.components ?? encoder.outputs;
    const badTrain = options.onBadRow === 'skip' ? new BadRows() : undefined;
    const badTest = options.onBadRow === 'skip' ? new BadRows() : undefined;
    const batches = (file: string, bad: BadRows | undefined, flow: FlowControl) =>
      csvRows(file, { header: options.header, labelColumn: options.labelColumn, flow, badRows: bad }).pipe(
        normalize(options.scale, bad),
        batchRows(options.batch),
      );
    const checkWidth = (b: Batch, file: string) => {
      if (b.cols !== model.inputs) {
        throw new AeflowError(
          'MODEL_INPUT_MISMATCH',
          `${file} has ${b.cols} feature columns, the model takes ${model.inputs}`,
          'check the label column and that this is the data the model was trained on',
        );
      }
    };

    // Training rows: PCA sums and the model's errors (for the threshold).
    const d = model.inputs;
    const sum = new Float64Array(d);
    const outer = new Float64Array(d * d);
    const trainErrors: number[] = [];
    const trainFlow = new FlowControl(2);
    await lastValueFrom(
      batches(options.train, badTrain, trainFlow).pipe(
        concatMap((b) => {
          checkWidth(b, options.train);
          trainFlow.acquire();
          return defer(async () => {
            const g = await pool.call(0, { kind: 'gram', x: b.x.slice(), target: null, rows: b.rows, cols: b.cols });
            for (let i = 0; i < d; i++) sum[i] += g.sum[i];
            for (let i = 0; i < d * d; i++) outer[i] += g.outer[i];
            const { errors } = await pool.call(0, { kind: 'rowErrors', x: b.x, target: null, rows: b.rows, cols: b.cols }, [b.x.buffer]);
            for (const e of errors) trainErrors.push(e);
          }).pipe(finalize(() => trainFlow.release()));
        }),
      ),
      { defaultValue: undefined },
    );
    const pca = Pca.fromSums(sum, outer, trainErrors.length, k);
    const sorted = Float64Array.from(trainErrors).sort();
    const threshold = sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((options.percentile / 100) * sorted.length) - 1))];

    // Test rows: both models' errors per row, anomalies flagged.
    await fs.mkdir(options.out, { recursive: true });
    const file = path.join(options.out, 'anomalies.csv');
    const csv = createWriteStream(`${file}.partial`);
    csv.write('row,line,label,model_error,pca_error,anomaly\n');
    let modelSum = 0;
    let pcaSum = 0;
    let testRows = 0;
    let flagged = 0;
    const testFlow = new FlowControl(2);
    await lastValueFrom(
      batches(options.test, badTest, testFlow).pipe(
        concatMap((b) => {
          checkWidth(b, options.test);
          testFlow.acquire();
          const x = b.x.slice();
          return defer(async () => {
            const { errors } = await pool.call(0, { kind: 'rowErrors', x: b.x, target: null, rows: b.rows, cols: b.cols }, [b.x.buffer]);
            let text = '';
            for (let r = 0; r < b.rows; r++) {
              const row = x.subarray(r * d, (r + 1) * d);
              const pcaError = halfMse(pca.reconstruct(row), row);
              const anomaly = errors[r] > threshold;
              modelSum += errors[r];
              pcaSum += pcaError;
              testRows++;
              if (anomaly) flagged++;
              const label = b.labels ? b.labels[r] : '';
              text += `${b.indices[r]},${b.lines[r]},${Number.isNaN(label) ? '' : label},${errors[r]},${pcaError},${anomaly ? 1 : 0}\n`;
            }
            if (!csv.write(text)) await once(csv, 'drain');
          }).pipe(finalize(() => testFlow.release()));
        }),
      ),
      { defaultValue: undefined },
    );
    csv.end();
    await once(csv, 'close');
    await fs.rename(`${file}.partial`, file);

    const evaluation: Evaluation = {
      model: options.model,
      code_size: encoder.outputs,
      train_rows: trainErrors.length,
      test_rows: testRows,
      model_test_loss: modelSum / testRows,
      pca_test_loss: pcaSum / testRows,
      pca_components: pca.k,
      model_vs_pca: modelSum / pcaSum,
      anomaly: { percentile: options.percentile, threshold, flagged, file },
      ...(badTrain && badTest ? { skipped_rows: { train: badTrain.skipped, test: badTest.skipped } } : {}),
      backend: model.backend,
    };
    await fs.writeFile(path.join(options.out, 'evaluation.json'), JSON.stringify(evaluation, null, 2) + '\n');
    return evaluation;
  } finally {
    await pool.close();
  }
}
