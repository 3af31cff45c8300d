/**
 * Messages between the main thread and an inference worker (a saved model's encode, reconstruction errors, and
 * the evaluation's statistics and probes). Types only: both sides import this file.
 */
import type { BackendChoice, BackendName } from '../backend.js';
import type { SerializedError } from '../errors.js';
import type { SoftmaxRegressionOptions } from '../models/softmaxRegression.js';

/** Rows packed row-major, in a transferred buffer or in shared memory that several workers read. */
export interface Rows {
  readonly x: Float32Array;
  readonly rows: number;
  readonly cols: number;
}

/** The three kinds of features the probes compare: raw values, PCA codes, the model's codes. */
export type FeatureSet = 'raw' | 'pca' | 'model';
export const featureSets: readonly FeatureSet[] = ['raw', 'pca', 'model'];

/** Rows per step of a logistic probe: the worker cuts each training batch into steps of this many rows. */
export const PROBE_STEP_ROWS = 256;

/** What the training pass of an evaluation accumulates in a worker, for PCA and the probes' standardization. */
export interface RowStatistics {
  readonly rows: number;
  /** Σx (d) and Σxxᵀ (d × d, row-major), in float64. */
  readonly sum: Float64Array;
  readonly outer: Float64Array;
  /** Σz and Σz² of the model's codes (c). */
  readonly codeSum: Float64Array;
  readonly codeSquares: Float64Array;
}

export interface InferenceRequests {
  /** Loads a run's model folder (encoder/, and decoder/ when there) or an encoder folder alone. */
  load: {
    request: { backend: BackendChoice; model: string };
    result: { backend: BackendName; matMul: string; inputs: number; code: number; decoder: boolean };
  };
  encode: { request: Rows; result: { z: Float32Array } };
  /** The codes as CSV text (see featureRows): with a label column when `labels` is given (null: empty labels). */
  encodeText: { request: Rows & { labels?: Float32Array | null }; result: { text: Uint8Array } };
  /** Each row's 0.5·mean squared reconstruction error; adds the rows to the worker's statistics when `collect`. */
  errors: { request: Rows & { collect: boolean }; result: { errors: Float32Array } };
  /** The statistics collected so far (then reset); null when this worker saw no rows. */
  statistics: { request: Record<never, never>; result: RowStatistics | null };
  /** The fitted PCA: mean (d) and components (d × k, row-major). */
  setPca: { request: { mean: Float32Array; components: Float32Array; k: number }; result: Record<never, never> };
  /**
   * Each row's reconstruction error, and the `top` input columns whose features' squared errors add up to the
   * most (`groups[f]`: feature f's input column, of `columns`), with their share of the row's error.
   */
  contributions: {
    request: Rows & { groups: Int32Array; columns: number; top: number };
    result: { errors: Float32Array; columns: Int32Array; shares: Float32Array };
  };
  /** The model's and PCA's reconstruction error of each row, and the model's codes. */
  score: { request: Rows; result: { errors: Float32Array; pcaErrors: Float32Array; codes: Float32Array } };
  /**
   * Holds query rows (this worker's share of the held test rows) for the nearest-neighbour probe of every
   * feature set, and starts the logistic probes this worker trains.
   */
  probeStart: {
    request: { queries: Float32Array; rows: number; k: number; logistic: Array<{ set: FeatureSet; options: SoftmaxRegressionOptions }> };
    result: Record<never, never>;
  };
  /** A batch of training rows: past the queries (when `neighbours`), and a step of each logistic probe here. */
  probeBatch: { request: Rows & { labels: Int32Array; indices: Int32Array; neighbours: boolean; logistic: boolean }; result: Record<never, never> };
  /** The nearest-neighbour vote of every query, per feature set. */
  votes: { request: Record<never, never>; result: Record<FeatureSet, Int32Array> };
  /** The trained weights of a logistic probe held here. */
  logisticWeights: { request: { set: FeatureSet }; result: { weights: Float32Array } };
  /** Predictions for this worker's queries with a logistic probe's weights (trained here or elsewhere). */
  logisticPredict: { request: { set: FeatureSet; weights: Float32Array; options: SoftmaxRegressionOptions }; result: { predicted: Int32Array } };
  /** Frees the probes' state. */
  probeEnd: { request: Record<never, never>; result: Record<never, never> };
  memory: { request: Record<never, never>; result: { numTensors: number; numBytes: number } };
}

export type InferenceKind = keyof InferenceRequests;
export type InferenceRequest<K extends InferenceKind = InferenceKind> = K extends InferenceKind ? { kind: K } & InferenceRequests[K]['request'] : never;
export type InferenceResponse<K extends InferenceKind = InferenceKind> =
  | { ok: true; result: InferenceRequests[K]['result'] }
  | { ok: false; error: SerializedError };
