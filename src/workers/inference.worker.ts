/**
 * The inference worker (piscina task file): a saved model's encoder and decoder, and the evaluation's work on
 * them: statistics for PCA, reconstruction errors, and the probes' state. Tensors live here; every tensor a
 * task creates is disposed before it returns (the probes' held queries are disposed by `probeEnd`).
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { selectBackend } from '../backend.js';
import { AeflowError } from '../errors.js';
import { DenseStack } from '../models/denseStack.js';
import { heapView } from '../models/heapView.js';
import { StreamingNeighbours } from '../models/nearestNeighbours.js';
import { SoftmaxRegression } from '../models/softmaxRegression.js';
import { CsvText } from '../sinks/csvText.js';
import { featureRows } from '../sinks/featuresCsv.js';
import { readLayersModel } from '../models/files.js';
import {
  type FeatureSet,
  featureSets,
  type InferenceKind,
  type InferenceRequest,
  type InferenceRequests,
  type InferenceResponse,
  PROBE_STEP_ROWS,
  type Rows,
} from './inferenceProtocol.js';
import { respond } from './respond.js';
import { readArray } from './tensorData.js';

interface Pca {
  readonly mean: tf.Tensor1D;
  readonly components: tf.Tensor2D;
  readonly transposed: tf.Tensor2D;
}

interface Probes {
  /** This worker's queries as each feature set (rows × features): the raw rows in place, their codes here. */
  readonly queries: Record<FeatureSet, Float32Array>;
  readonly rows: number;
  readonly neighbours: Record<FeatureSet, StreamingNeighbours>;
  readonly logistic: Map<FeatureSet, SoftmaxRegression>;
}

let encoder: DenseStack | null = null;
let decoder: DenseStack | null = null;
let pca: Pca | null = null;
let statistics: Statistics | null = null;
let probes: Probes | null = null;
/** Where encodeText writes, reused. */
const csvText = new CsvText();

/** Entry point: one request in, one response out. */
export default function handle(request: InferenceRequest): Promise<InferenceResponse> {
  return respond<InferenceRequest, InferenceResponse>(handlers, request);
}

type Handlers = {
  [K in InferenceKind]: (request: InferenceRequest<K>) => Promise<InferenceRequests[K]['result']> | InferenceRequests[K]['result'];
};

const handlers: Handlers = {
  async load({ backend, model }) {
    const selection = await selectBackend(backend);
    encoder?.dispose();
    decoder?.dispose();
    const run = existsSync(path.join(model, 'encoder', 'model.json'));
    encoder = await loadStack(run ? path.join(model, 'encoder') : model);
    decoder = run && existsSync(path.join(model, 'decoder', 'model.json')) ? await loadStack(path.join(model, 'decoder')) : null;
    return { backend: selection.name, matMul: selection.matMul, inputs: encoder.inputs, code: encoder.outputs, decoder: decoder !== null };
  },

  encode(rows) {
    const z = tf.tidy(() => stack(encoder, 'encoder').apply(tensorOf(rows)));
    return { z: readArray(z) };
  },

  encodeText(rows) {
    const z = tf.tidy(() => stack(encoder, 'encoder').apply(tensorOf(rows)));
    try {
      const text = featureRows(csvText, heapView(z), z.shape[1], rows.labels);
      return { text: new Uint8Array(text.buffer, text.byteOffset, text.byteLength) };
    } finally {
      z.dispose();
    }
  },

  errors(rows) {
    const [errors, codes] = tf.tidy(() => {
      const x = tensorOf(rows);
      const z = stack(encoder, 'encoder').apply(x);
      if (rows.collect) {
        statistics ??= new Statistics(rows.cols, z.shape[1]);
        statistics.add(x, z);
      }
      return [halfMsePerRow(stack(decoder, 'decoder').apply(z), x), z];
    });
    codes.dispose();
    return { errors: readArray(errors) };
  },

  statistics() {
    const result = statistics?.result() ?? null;
    statistics = null;
    return result;
  },

  setPca({ mean, components, k }) {
    if (pca) tf.dispose([pca.mean, pca.components, pca.transposed]);
    const d = mean.length;
    const w = tf.tensor2d(components, [d, k]);
    pca = { mean: tf.tensor1d(mean), components: w, transposed: tf.transpose(w) };
    return {};
  },

  contributions(rows) {
    const [errors, squares] = tf.tidy(() => {
      const x = tensorOf(rows);
      const d = tf.squaredDifference(stack(decoder, 'decoder').apply(stack(encoder, 'encoder').apply(x)), x);
      return [tf.mul(0.5, tf.mean(d, 1)), d];
    });
    try {
      return { errors: readArray(errors), ...topColumns(heapView(squares), rows.rows, rows.cols, rows.groups, rows.columns, rows.top) };
    } finally {
      squares.dispose();
    }
  },

  score(rows) {
    const p = pcaOf();
    const x = tensorOf(rows);
    try {
      // One model at a time, each in its own scope: fewer intermediates at once keep the WASM heap at the size
      // training left it (a larger heap is a copy, and the old one lingers until a collection).
      const [errors, codes] = tf.tidy(() => {
        const z = stack(encoder, 'encoder').apply(x);
        return [halfMsePerRow(stack(decoder, 'decoder').apply(z), x), z];
      });
      const pcaErrors = tf.tidy(() => {
        const centred = tf.sub(x, p.mean) as tf.Tensor2D;
        return halfMsePerRow(tf.matMul(tf.matMul(centred, p.components), p.transposed) as tf.Tensor2D, centred);
      });
      return { errors: readArray(errors), pcaErrors: readArray(pcaErrors), codes: readArray(codes) };
    } finally {
      x.dispose();
    }
  },

  probeStart({ queries, rows, k, logistic }) {
    endProbes();
    const held = heldQueries(queries, rows, stack(encoder, 'encoder').inputs);
    const neighbours = {} as Record<FeatureSet, StreamingNeighbours>;
    for (const set of featureSets) neighbours[set] = new StreamingNeighbours(held[set], rows, held[set].length / Math.max(1, rows), k);
    probes = { queries: held, rows, neighbours, logistic: new Map(logistic.map(({ set, options }) => [set, new SoftmaxRegression(options)])) };
    return {};
  },

  probeBatch(batch) {
    const p = probesOf();
    const { cols } = batch;
    // A logistic step's rows at a time, each made a tensor from shared memory: tfjs's slice of a batch tensor
    // costs more than the step itself.
    for (let start = 0; start < batch.rows; start += PROBE_STEP_ROWS) {
      const n = Math.min(PROBE_STEP_ROWS, batch.rows - start);
      const rows = batch.x.subarray(start * cols, (start + n) * cols);
      const labels = batch.labels.subarray(start, start + n);
      const indices = batch.indices.subarray(start, start + n);
      tf.tidy(() => {
        const x = tf.tensor2d(rows, [n, cols]);
        for (const set of featureSets) {
          const model = batch.logistic ? p.logistic.get(set) : undefined;
          if (!batch.neighbours && !model) continue;
          const f = features(x, set);
          // The raw rows are read where they are; codes are copied out of the WASM heap, which tfjs may move.
          if (batch.neighbours) p.neighbours[set].add(set === 'raw' ? rows : scratch(set, heapView(f)), n, labels, indices);
          if (model) model.step(f, labels);
        }
      });
    }
    return {};
  },

  votes() {
    const p = probesOf();
    return { raw: p.neighbours.raw.vote(), pca: p.neighbours.pca.vote(), model: p.neighbours.model.vote() };
  },

  logisticWeights({ set }) {
    const model = probesOf().logistic.get(set);
    if (!model) throw new Error(`no logistic probe of ${set} features here`);
    return { weights: model.weights() };
  },

  logisticPredict({ set, weights, options }) {
    const p = probesOf();
    const model = p.logistic.get(set) ?? new SoftmaxRegression(options);
    return { predicted: model.predictRows(p.queries[set], p.rows, weights) };
  },

  probeEnd() {
    endProbes();
    return {};
  },

  memory() {
    const m = tf.memory();
    return { numTensors: m.numTensors, numBytes: m.numBytes };
  },
};

/** Per row, the `top` input columns by their features' summed squared errors, and each one's share of the row's sum. */
function topColumns(
  squares: Float32Array,
  rows: number,
  cols: number,
  groups: Int32Array,
  columns: number,
  top: number,
): { columns: Int32Array; shares: Float32Array } {
  const out = new Int32Array(rows * top).fill(-1);
  const shares = new Float32Array(rows * top);
  const sums = new Float64Array(columns);
  for (let r = 0; r < rows; r++) {
    sums.fill(0);
    let total = 0;
    for (let f = 0; f < cols; f++) {
      const v = squares[r * cols + f];
      sums[groups[f]] += v;
      total += v;
    }
    for (let k = 0; k < top; k++) {
      let best = -1;
      for (let j = 0; j < columns; j++) if (sums[j] >= 0 && (best < 0 || sums[j] > sums[best])) best = j;
      if (best < 0) break;
      out[r * top + k] = best;
      shares[r * top + k] = total > 0 ? sums[best] / total : 0;
      sums[best] = -1;
    }
  }
  return { columns: out, shares };
}

/** Rows per piece when the held queries' codes are computed: keeps the WASM heap from growing for them. */
const QUERY_PIECE = 512;

/**
 * The queries as each feature set: the raw rows where they are (the evaluation's shared memory), their codes
 * computed piece by piece into plain memory. The WASM heap never shrinks and grows by copying itself, so holding
 * the queries there left each worker larger for the rest of its life (`bench/run.mjs`, memory section).
 */
function heldQueries(queries: Float32Array, rows: number, d: number): Record<FeatureSet, Float32Array> {
  const held: Record<FeatureSet, Float32Array> = { raw: queries.subarray(0, rows * d), pca: new Float32Array(0), model: new Float32Array(0) };
  for (const set of ['pca', 'model'] as const) {
    const width = set === 'pca' ? pcaOf().components.shape[1] : stack(encoder, 'encoder').outputs;
    const out = new Float32Array(rows * width);
    for (let start = 0; start < rows; start += QUERY_PIECE) {
      const n = Math.min(QUERY_PIECE, rows - start);
      tf.tidy(() => out.set(heapView(features(tf.tensor2d(queries.subarray(start * d, (start + n) * d), [n, d]), set)), start * width));
    }
    held[set] = out;
  }
  return held;
}

/** A batch's codes copied into memory reused from batch to batch (one array per feature set). */
const scratches = new Map<FeatureSet, Float32Array>();
function scratch(set: FeatureSet, values: Float32Array): Float32Array {
  let s = scratches.get(set);
  if (!s || s.length < values.length) {
    s = new Float32Array(values.length);
    scratches.set(set, s);
  }
  s.set(values);
  return s;
}

/** The features of rows: the rows themselves, their PCA codes, or the model's codes. */
function features(x: tf.Tensor2D, set: FeatureSet): tf.Tensor2D {
  if (set === 'raw') return x;
  if (set === 'model') return stack(encoder, 'encoder').apply(x);
  const p = pcaOf();
  return tf.tidy(() => tf.matMul(tf.sub(x, p.mean), p.components));
}

/** Σx, Σxxᵀ, Σz and Σz² of the rows seen, in float64 (each batch's products are float32). */
class Statistics {
  rows = 0;
  private readonly sum: Float64Array;
  private readonly outer: Float64Array;
  private readonly codeSum: Float64Array;
  private readonly codeSquares: Float64Array;

  constructor(d: number, c: number) {
    this.sum = new Float64Array(d);
    this.outer = new Float64Array(d * d);
    this.codeSum = new Float64Array(c);
    this.codeSquares = new Float64Array(c);
  }

  add(x: tf.Tensor2D, z: tf.Tensor2D): void {
    const [outer, sum, codeSum, codeSquares] = tf.tidy(() => [tf.matMul(tf.transpose(x), x), tf.sum(x, 0), tf.sum(z, 0), tf.sum(tf.square(z), 0)]);
    addInto(this.outer, heapView(outer));
    addInto(this.sum, heapView(sum));
    addInto(this.codeSum, heapView(codeSum));
    addInto(this.codeSquares, heapView(codeSquares));
    tf.dispose([outer, sum, codeSum, codeSquares]);
    this.rows += x.shape[0];
  }

  result() {
    return { rows: this.rows, sum: this.sum, outer: this.outer, codeSum: this.codeSum, codeSquares: this.codeSquares };
  }
}

function addInto(total: Float64Array, part: Float32Array): void {
  for (let i = 0; i < total.length; i++) total[i] += part[i];
}

async function loadStack(dir: string): Promise<DenseStack> {
  return DenseStack.fromFiles(await readLayersModel(dir), dir);
}

function halfMsePerRow(y: tf.Tensor2D, x: tf.Tensor2D): tf.Tensor1D {
  return tf.mul(0.5, tf.mean(tf.squaredDifference(y, x), 1));
}

function tensorOf(rows: Rows): tf.Tensor2D {
  return tf.tensor2d(rows.x.subarray(0, rows.rows * rows.cols), [rows.rows, rows.cols]);
}

function stack(s: DenseStack | null, name: string): DenseStack {
  if (!s) {
    throw new AeflowError('MODEL_NOT_FOUND', `the worker has no ${name} loaded`, `pass the model folder of a run (RUN/model), which holds ${name}/`);
  }
  return s;
}

function pcaOf(): Pca {
  if (!pca) throw new Error('no PCA set (setPca)');
  return pca;
}

function probesOf(): Probes {
  if (!probes) throw new Error('no probes started (probeStart)');
  return probes;
}

function endProbes(): void {
  if (!probes) return;
  for (const set of featureSets) probes.neighbours[set].dispose();
  probes = null;
  scratches.clear();
}
