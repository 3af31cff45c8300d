import { concat } from '../arrays.js';
import type { Pca } from '../models/pca.js';
import { WindowMemory } from '../operators/shuffleWindow.js';
import type { SoftmaxRegressionOptions } from '../models/softmaxRegression.js';
import { deriveSeed } from '../random.js';
import type { Inference } from '../workers/inference.js';
import { type FeatureSet, featureSets, PROBE_STEP_ROWS } from '../workers/inferenceProtocol.js';
import type { DataSource } from './dataflow.js';
import { type EvaluationStage, streamBatches, type TrainingPass } from './passes.js';
import type { HeldTestRows } from './heldRows.js';
import type { ProbeScores } from '../types.js';

export type { ProbeScores } from '../types.js';

/** Neighbours that vote. */
const K = 5;
/** Passes of the logistic probes over the training split: at most this many, fewer for a large split. */
const MAX_PASSES = 10;
/** Steps the logistic probes take at least (more passes over a small split). */
const MIN_STEPS = 2000;
/**
 * Adam's initial rate for the logistic probes. High for Adam, but the problem is convex and the rate decays to 0
 * with the iterates averaged: on Fashion-MNIST's standardized features 0.1 ends where scikit-learn's L-BFGS does
 * (within 0.1–0.3 points on raw values, PCA codes and model codes), 0.001 short of it by up to 3 points.
 */
const LEARNING_RATE = 0.1;
/** The shuffle window of the logistic probes' passes (the training CSV may be sorted by label). */
const SHUFFLE_WINDOW = 4096;

export interface ProbeSettings {
  readonly seed: number;
  readonly progress?: (stage: EvaluationStage) => void;
}

/**
 * Label prediction from features, the same protocol for raw values, PCA codes and the model's codes, over every
 * training row in bounded memory. The held test rows are shared out among the workers; the training split then
 * streams past them (each worker sees every batch, from shared memory):
 * - 5-nearest-neighbours: each worker keeps the 5 best training rows of each of its test rows (exact: every
 *   training row is compared with every held test row) and votes;
 * - a softmax regression on standardized features (means and deviations from the training pass's sums), with
 *   scikit-learn's default penalty (C = 1: an L2 weight of 1 / rows), trained by Adam over shuffled passes of
 *   the training split (see SoftmaxRegression); each probe trains in one worker.
 * The first pass serves both; the rest train the logistic probes only.
 */
export async function runProbes(
  inference: Inference,
  train: DataSource,
  found: TrainingPass,
  pca: Pca,
  held: HeldTestRows,
  settings: ProbeSettings,
): Promise<{ raw: ProbeScores; pca: ProbeScores; model: ProbeScores; k: number; classes: number; passes: number }> {
  const classes = found.classes as number[];
  const index = new Map(classes.map((v, i) => [v, i]));
  const rows = found.statistics.rows;
  const stepsPerPass = Math.ceil(rows / PROBE_STEP_ROWS);
  const passes = Math.min(MAX_PASSES, Math.max(1, Math.ceil(MIN_STEPS / stepsPerPass)));
  const options = logisticOptions(found, pca, classes.length, passes * stepsPerPass);
  const owners = owned(inference.workers);
  await inference.probeStart(
    shares(held.x, held.rows, inference.inputs, inference.workers),
    K,
    owners.map((sets) => sets.map((set) => ({ set, options: options[set] }))),
  );
  const memory = new WindowMemory();
  try {
    for (let pass = 1; pass <= passes; pass++) {
      const name = `probes: pass ${pass}/${passes}${pass === 1 ? ' (5-NN and logistic)' : ' (logistic)'}`;
      const shuffle = { window: SHUFFLE_WINDOW, seed: deriveSeed(settings.seed, 'probes', pass), memory };
      await streamBatches(inference, train, { name, progress: settings.progress, rows, shuffle }, async (b) => {
        const labels = Int32Array.from(b.labels as Float32Array, (l) => index.get(l) ?? -1);
        await inference.probeBatch(b.x, b.rows, labels, b.indices, pass === 1);
      });
    }
    const truth = Int32Array.from(held.labels, (l) => index.get(l) ?? -1);
    const votes = await inference.votes();
    const scores = {} as Record<FeatureSet, ProbeScores>;
    for (const set of featureSets) {
      const owner = owners.findIndex((sets) => sets.includes(set));
      const weights = await inference.logisticWeights(owner, set);
      const predicted = await inference.logisticPredict(set, weights, options[set]);
      scores[set] = {
        logistic: accuracy(concat(predicted, Int32Array), truth),
        knn: accuracy(
          concat(
            votes.map((v) => v[set]),
            Int32Array,
          ),
          truth,
        ),
      };
    }
    return { ...scores, k: K, classes: classes.length, passes };
  } finally {
    await inference.probeEnd();
  }
}

/** Which worker trains which logistic probe: the raw one (the widest) alone where there are two or more. */
function owned(workers: number): FeatureSet[][] {
  if (workers === 1) return [[...featureSets]];
  const out: FeatureSet[][] = Array.from({ length: workers }, () => []);
  out[0].push('raw', 'pca');
  out[1 % workers].push('model');
  return out;
}

/** Standardization of each feature set from the training pass: raw and code sums, and PCA's variances. */
function logisticOptions(found: TrainingPass, pca: Pca, classes: number, steps: number): Record<FeatureSet, SoftmaxRegressionOptions> {
  const { rows, sum, outer, codeSum, codeSquares } = found.statistics;
  const d = sum.length;
  const moments = (mean: (i: number) => number, square: (i: number) => number, n: number) => ({
    mean: Float32Array.from({ length: n }, (_, i) => mean(i)),
    std: Float32Array.from({ length: n }, (_, i) => Math.sqrt(Math.max(0, square(i) - mean(i) ** 2))),
  });
  const common = { classes, l2: 1 / rows, learningRate: LEARNING_RATE, steps, averageFrom: Math.floor(steps / 2) };
  return {
    raw: {
      dims: d,
      ...common,
      ...moments(
        (i) => sum[i] / rows,
        (i) => outer[i * d + i] / rows,
        d,
      ),
    },
    // PCA codes are centred, and each component's variance is its eigenvalue (with n − 1: made n here).
    pca: { dims: pca.k, ...common, mean: new Float32Array(pca.k), std: Float32Array.from(pca.variances, (v) => Math.sqrt((v * (rows - 1)) / rows)) },
    model: {
      dims: codeSum.length,
      ...common,
      ...moments(
        (i) => codeSum[i] / rows,
        (i) => codeSquares[i] / rows,
        codeSum.length,
      ),
    },
  };
}

/** Contiguous shares of rows × width, one per worker: views of the held rows' shared memory. */
function shares(x: Float32Array, rows: number, width: number, parts: number): Float32Array[] {
  return Array.from({ length: parts }, (_, i) => {
    const from = Math.floor((rows * i) / parts);
    const to = Math.floor((rows * (i + 1)) / parts);
    return x.subarray(from * width, to * width);
  });
}

function accuracy(predicted: Int32Array, truth: Int32Array): number {
  let right = 0;
  for (let i = 0; i < truth.length; i++) if (predicted[i] === truth[i] && truth[i] >= 0) right++;
  return right / truth.length;
}
