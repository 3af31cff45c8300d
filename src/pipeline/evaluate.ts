import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { BackendChoice } from '../backend.js';
import { AeflowError } from '../errors.js';
import { Pca } from '../models/pca.js';
import { deriveSeed } from '../random.js';
import { AnomaliesCsv } from '../sinks/anomaliesCsv.js';
import { BadRows } from '../sources/badRows.js';
import { Inference } from '../workers/inference.js';
import type { InferenceRequests } from '../workers/inferenceProtocol.js';
import type { WorkerThreads } from '../workers/threads.js';
import type { DataSource } from './dataflow.js';
import { type HeldTestRows, holdTestRows, latentPoints } from './heldRows.js';
import { type EvaluationStage, streamBatches, type TrainingPass } from './passes.js';
import { runProbes } from './probes.js';
import { errorSketch, THRESHOLD_ACCURACY } from './threshold.js';
import type { Evaluation, EvaluationResult } from '../types.js';

export type { Evaluation, EvaluationResult } from '../types.js';

export type { EvaluationStage } from './passes.js';
export type { ProbeScores } from './probes.js';

export interface EvaluateOptions {
  /** A run's model folder (holding encoder/ and decoder/). */
  readonly model: string;
  readonly train: DataSource;
  readonly test: DataSource;
  /** Where evaluation.json and anomalies.csv go. */
  readonly out: string;
  /** PCA components; the model's code size when left out (the fair comparison). */
  readonly components?: number;
  /** The anomaly threshold: this percentile of the training rows' reconstruction errors. */
  readonly percentile: number;
  /** Test rows the probes and the pictures hold at most: a seeded uniform sample of a larger test split. */
  readonly testRows: number;
  readonly seed: number;
  readonly backend: BackendChoice;
  readonly workers: number;
  /** Threads to evaluate in (a run's trainer's, handed over), instead of new ones. */
  readonly threads?: WorkerThreads<InferenceRequests>;
  readonly probes: boolean;
  /** Told what the evaluation is doing, for a progress bar. */
  readonly progress?: (stage: EvaluationStage) => void;
}

/**
 * How good is a trained autoencoder, in memory bounded by the held test rows whatever the files' sizes. One pass
 * over the training split collects PCA's sums, the probes' standardization and a sketch of the model's errors;
 * one over the test split writes every row's errors to anomalies.csv and holds a sample of the rows; then the
 * probes stream the training split past the held rows (see probes.ts).
 */
export async function evaluateModel(options: EvaluateOptions): Promise<EvaluationResult> {
  const started = performance.now();
  const inference = await Inference.start({ model: options.model, backend: options.backend, workers: options.workers, threads: options.threads });
  try {
    if (!inference.hasDecoder) {
      throw new AeflowError('MODEL_NOT_FOUND', `${options.model}: no decoder/ beside encoder/`, 'pass the model folder of a run (RUN/model)');
    }
    const components = Math.min(options.components ?? inference.codeSize, inference.inputs);
    const train = await trainingPass(inference, options);
    const pca = Pca.fromSums(train.statistics.sum, train.statistics.outer, train.statistics.rows, components);
    await inference.setPca(Float32Array.from(pca.mean), Float32Array.from(pca.components), pca.k);
    const threshold = train.sketch.getValueAtQuantile(options.percentile / 100);
    const trained = performance.now();
    const test = await testPass(inference, options, threshold);
    const tested = performance.now();
    const labelled = options.probes && train.classes !== null && test.held.labelled;
    const probes = labelled ? await runProbes(inference, options.train, train, pca, test.held, options) : null;
    const evaluation: Evaluation = {
      model: options.model,
      code_size: inference.codeSize,
      train_rows: train.statistics.rows,
      test_rows: test.rows,
      model_test_loss: test.modelSum / test.rows,
      model_test_loss_is: '0.5·MSE of the clean test rows',
      pca_test_loss: test.pcaSum / test.rows,
      pca_components: pca.k,
      model_vs_pca: test.modelSum / test.pcaSum,
      model_sq_error_per_row: (2 * inference.inputs * test.modelSum) / test.rows,
      pca_sq_error_per_row: (2 * inference.inputs * test.pcaSum) / test.rows,
      anomaly: { percentile: options.percentile, threshold, relative_accuracy: THRESHOLD_ACCURACY, flagged: test.flagged, file: test.file },
      probes: probes && { ...probes, test_rows: test.held.rows },
      sample: { held: test.held.rows, of: test.rows, seed: options.seed, complete: test.held.rows === test.rows, bytes: test.held.bytes },
      ...(options.train.onBadRow === 'skip' ? { skipped_rows: { train: train.skipped, test: test.skipped } } : {}),
      backend: inference.backend,
      workers: inference.workers,
      seconds: {
        training_pass: seconds(started, trained),
        test_pass: seconds(trained, tested),
        probes: seconds(tested, performance.now()),
        total: seconds(started, performance.now()),
      },
      peak_rss_mb: Math.round(process.resourceUsage().maxRSS / 1024),
    };
    await fs.writeFile(path.join(options.out, 'evaluation.json'), JSON.stringify(evaluation, null, 2) + '\n');
    return { evaluation, testErrors: test.held.errors, latent: latentPoints(test.held, inference.codeSize) };
  } finally {
    await inference.close();
  }
}

/** The training split once: PCA's sums and the codes' in the workers, every row's error into the sketch. */
async function trainingPass(inference: Inference, options: EvaluateOptions): Promise<TrainingPass> {
  const sketch = errorSketch();
  const labels = new Set<number>();
  let unlabelled = false;
  const badRows = new BadRows();
  await streamBatches(inference, options.train, { name: 'training split: PCA sums, errors', badRows, progress: options.progress }, async (b) => {
    unlabelled ||= !b.labels || b.labels.some(Number.isNaN);
    if (b.labels && !unlabelled) for (const l of b.labels) labels.add(l);
    const errors = await inference.errors(b.x, b.rows, true);
    for (const e of errors) sketch.accept(e);
  });
  const statistics = await inference.statistics();
  if (statistics.rows < 2) {
    throw new AeflowError('CSV_EMPTY', `${options.train.file}: ${statistics.rows} row; PCA needs at least 2`, 'evaluate on a training split with more rows');
  }
  return { statistics, sketch, classes: unlabelled ? null : [...labels].sort((a, b) => a - b), skipped: badRows.skipped };
}

/** The test split once: every row's errors to anomalies.csv, the losses, and a sample of rows held. */
async function testPass(inference: Inference, options: EvaluateOptions, threshold: number) {
  const file = path.join(options.out, 'anomalies.csv');
  await fs.mkdir(options.out, { recursive: true });
  const csv = new AnomaliesCsv(file);
  const held = holdTestRows(
    options.testRows,
    inference.inputs,
    inference.codeSize,
    deriveSeed(options.seed, 'evaluate', 'test-sample'),
    await testRowsAtMost(options.test, inference.inputs),
  );
  const badRows = new BadRows();
  let modelSum = 0;
  let pcaSum = 0;
  let rows = 0;
  let flagged = 0;
  try {
    // Batches are scored concurrently and written in file order: each waits for the one before it.
    let previous: Promise<void> = Promise.resolve();
    await streamBatches(inference, options.test, { name: 'test split: errors, anomalies.csv', badRows, progress: options.progress }, (b) => {
      const slots = held.offer(b);
      const scoring = inference.score(b.x, b.rows);
      const before = previous;
      previous = (async () => {
        const scored = await scoring;
        await before;
        held.fill(slots, scored.errors, scored.codes);
        for (let r = 0; r < b.rows; r++) {
          modelSum += scored.errors[r];
          pcaSum += scored.pcaErrors[r];
          if (scored.errors[r] > threshold) flagged++;
        }
        rows += b.rows;
        await csv.write(b, scored.errors, scored.pcaErrors, threshold);
      })();
      return previous;
    });
    await csv.close();
  } catch (e) {
    await csv.abort();
    throw e;
  }
  return { file, held: held.done(), modelSum, pcaSum, rows, flagged, skipped: badRows.skipped };
}

/** An upper bound on the test split's rows from its size: a CSV row takes at least two bytes per value (a digit, a comma). */
async function testRowsAtMost(test: DataSource, inputs: number): Promise<number> {
  return Math.ceil((await fs.stat(test.file)).size / (2 * inputs));
}

function seconds(from: number, to: number): number {
  return Math.round((to - from) / 10) / 100;
}

export type { HeldTestRows };
