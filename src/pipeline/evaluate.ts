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
  /** Run the probes (they hold every row's features in memory: ~190 MB of raw pixels for Fashion-MNIST). */
  readonly probes: boolean;
}

/** Test accuracy of a probe trained on the training rows' features. */
export interface ProbeScores {
  logistic: number;
  knn: number;
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
  /**
   * Label prediction from features, same protocol for all three: a softmax regression on standardized features
   * (Adam 0.001, L2 1e-4, 10 epochs and at least 2,000 steps of 256 rows) and a 5-nearest-neighbours vote, trained on the training rows, scored
   * on the test rows. Null when the data has no labels or probes were turned off.
   */
  probes: { raw: ProbeScores; pca: ProbeScores; model: ProbeScores; k: number; classes: number } | null;
  skipped_rows?: { train: SkippedRows; test: SkippedRows };
  backend: string;
}

/**
 * How good is a trained autoencoder? Streams the training CSV once (fitting PCA from streamed sums and collecting
 * the model's per-row errors for the anomaly threshold) and the test CSV once (the model's and PCA's reconstruction
 * errors per row, written to anomalies.csv with the rows above the threshold flagged).
 */
/** The figures, and what the plots draw. */
export interface EvaluationResult {
  readonly evaluation: Evaluation;
  /** Each test row's reconstruction error, in file order. */
  readonly testErrors: Float32Array;
  /** The test rows' codes projected onto their two principal directions, with labels ('' without). */
  readonly latent: Array<{ x: number; y: number; label: string }>;
}

export async function evaluateModel(options: EvaluateOptions): Promise<EvaluationResult> {
  const pool = WorkerPool.create(1);
  try {
    const encoder = await pool.call(0, { kind: 'load', backend: options.backend, model: path.join(options.model, 'encoder'), as: 'encoder' });
    const model = await pool.call(0, { kind: 'load', backend: options.backend, model: path.join(options.model, 'autoencoder'), as: 'autoencoder' });
    const features = { train: new Features(), test: new Features() };
    let probes = options.probes;
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
            probes &&= b.labels !== null && !b.labels.some(Number.isNaN);
            if (probes) await features.train.add(pool, b);
            const { errors } = await pool.call(0, { kind: 'rowErrors', model: 'autoencoder', x: b.x, target: null, rows: b.rows, cols: b.cols }, [b.x.buffer]);
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
    const testErrors: Float32Array[] = [];
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
            probes &&= b.labels !== null && !b.labels.some(Number.isNaN);
            await features.test.add(pool, b);
            const { errors } = await pool.call(0, { kind: 'rowErrors', model: 'autoencoder', x: b.x, target: null, rows: b.rows, cols: b.cols }, [b.x.buffer]);
            testErrors.push(errors);
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

    const latent = latentPoints(features.test.peek(), encoder.outputs);
    const probeScores = probes ? await runProbes(pool, features, pca, d, encoder.outputs) : null;
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
      probes: probeScores,
      ...(badTrain && badTest ? { skipped_rows: { train: badTrain.skipped, test: badTest.skipped } } : {}),
      backend: model.backend,
    };
    await fs.writeFile(path.join(options.out, 'evaluation.json'), JSON.stringify(evaluation, null, 2) + '\n');
    return { evaluation, testErrors: concat(testErrors), latent };
  } finally {
    await pool.close();
  }
}

/** Every row's raw values, model code and label, kept for the probes. */
class Features {
  private raw: Float32Array[] = [];
  private codes: Float32Array[] = [];
  private labels: Float32Array[] = [];

  async add(pool: WorkerPool, b: Batch): Promise<void> {
    this.raw.push(b.x.slice());
    this.labels.push(b.labels ? b.labels.slice() : new Float32Array(b.rows).fill(Number.NaN));
    const { y } = await pool.call(0, { kind: 'predict', model: 'encoder', x: b.x.slice(), target: null, rows: b.rows, cols: b.cols });
    this.codes.push(y);
  }

  /** The codes and labels so far, without giving them up. */
  peek(): { codes: Float32Array[]; labels: Float32Array[] } {
    return { codes: this.codes, labels: this.labels };
  }

  take(): { raw: Float32Array; codes: Float32Array; labels: Float32Array } {
    const out = { raw: concat(this.raw), codes: concat(this.codes), labels: concat(this.labels) };
    this.raw = [];
    this.codes = [];
    this.labels = [];
    return out;
  }
}

function concat(parts: Float32Array[]): Float32Array {
  const out = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return out;
}

/** The same two probes on raw values, PCA codes and the model's codes. */
async function runProbes(
  pool: WorkerPool,
  features: { train: Features; test: Features },
  pca: Pca,
  d: number,
  codeSize: number,
): Promise<Evaluation['probes']> {
  const train = features.train.take();
  const test = features.test.take();
  const values = [...new Set([...train.labels, ...test.labels])].sort((a, b) => a - b);
  const index = new Map(values.map((v, i) => [v, i]));
  const classes = values.length;
  const toIndex = (labels: Float32Array) => Int32Array.from(labels, (l) => index.get(l) as number);
  const trainLabels = toIndex(train.labels);
  const testLabels = toIndex(test.labels);
  const pcaCodes = (raw: Float32Array) => {
    const rows = raw.length / d;
    const out = new Float32Array(rows * pca.k);
    for (let r = 0; r < rows; r++) out.set(pca.project(raw.subarray(r * d, (r + 1) * d)), r * pca.k);
    return out;
  };
  const k = 5;
  const probe = (trainX: Float32Array, testX: Float32Array, dims: number) =>
    pool.call(
      0,
      { kind: 'probe', train: trainX, trainLabels: trainLabels.slice(), test: testX, testLabels: testLabels.slice(), dims, classes, k, epochs: 10, seed: 0 },
      [trainX.buffer, testX.buffer],
    );
  const pcaTrain = pcaCodes(train.raw);
  const pcaTest = pcaCodes(test.raw);
  const raw = await probe(train.raw, test.raw, d);
  const pcaScores = await probe(pcaTrain, pcaTest, pca.k);
  const model = await probe(train.codes, test.codes, codeSize);
  return { raw, pca: pcaScores, model, k, classes };
}

/**
 * Codes projected onto their own two principal directions (a 2-component PCA of every test code), for the latent
 * map.
 */
function latentPoints(test: { codes: Float32Array[]; labels: Float32Array[] }, k: number): Array<{ x: number; y: number; label: string }> {
  const codes = concat(test.codes);
  const labels = concat(test.labels);
  const n = codes.length / k;
  if (n < 2 || k < 2) return [];
  const sum = new Float64Array(k);
  const outer = new Float64Array(k * k);
  for (let r = 0; r < n; r++) {
    for (let i = 0; i < k; i++) {
      const v = codes[r * k + i];
      sum[i] += v;
      for (let j = 0; j < k; j++) outer[i * k + j] += v * codes[r * k + j];
    }
  }
  const pca = Pca.fromSums(sum, outer, n, 2);
  // The first 3,000 rows are drawn: enough to see the classes, and the report stays small.
  return Array.from({ length: Math.min(n, 3000) }, (_, r) => {
    const [x, y] = pca.project(codes.subarray(r * k, (r + 1) * k));
    const label = labels.length === n && !Number.isNaN(labels[r]) ? String(labels[r]) : '';
    return { x, y, label };
  });
}
