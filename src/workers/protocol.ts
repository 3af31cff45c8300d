/**
 * Messages between the main thread and a trainer worker. Types only: both sides import this file.
 *
 * Each worker holds one replica of the model and its optimizer. With one worker, `step` trains on a batch.
 * With several (data parallel), each replica runs `shareStep` on its share of a batch: it computes its gradients,
 * writes them (weighted by its share of the rows) into its slot of a SharedArrayBuffer, waits at a barrier for the
 * other replicas, sums all slots and applies that same average, so the replicas stay identical. One round trip
 * per step, and no gradient is copied through messages.
 */
import type { BackendChoice, BackendName } from '../backend.js';
import type { SerializedError } from '../errors.js';
import type { ModelSpec } from '../models/layers.js';
import type { LossName } from '../models/losses.js';

export interface OptimizerSpec {
  readonly type: 'adam' | 'sgd';
  readonly learning_rate: number;
  readonly beta1: number;
  readonly beta2: number;
  readonly epsilon: number;
}

/** Rows packed row-major; the buffers are transferred, not copied. */
export interface BatchPayload {
  readonly x: Float32Array;
  /** Clean targets when they differ from x (denoising); null: reconstruct x. */
  readonly target: Float32Array | null;
  readonly rows: number;
  readonly cols: number;
}

/** Memory the replicas of a data-parallel run share: a gradient slot each, and a barrier. */
export interface SharedGradients {
  readonly replicas: number;
  /** `replicas` slots of `parameters` floats. */
  readonly gradients: SharedArrayBuffer;
  readonly parameters: number;
  /** Int32 [arrived, generation]. */
  readonly barrier: SharedArrayBuffer;
}

export interface ProbeRequest {
  readonly train: Float32Array;
  readonly trainLabels: Int32Array;
  readonly test: Float32Array;
  readonly testLabels: Int32Array;
  readonly dims: number;
  readonly classes: number;
  readonly k: number;
  readonly epochs: number;
  readonly seed: number;
}

/** A replica's training state, as plain arrays (checkpoints hold it). */
export interface ReplicaState {
  /** Every variable of the model, in its fixed order. */
  readonly weights: Float32Array[];
  /** The optimizer's own weights (Adam: iterations, first and second moments), in its order. */
  readonly optimizer: Array<{ name: string; shape: number[]; data: Float32Array }>;
  /**
   * Adam's running powers β1^t and β2^t. tfjs's setWeights recomputes them with pow(), which differs from the
   * running product in the last bits; restored exactly, a resumed run repeats the uninterrupted one bit for bit.
   */
  readonly adamPowers: [number, number] | null;
  /** Random draws the model has made (a VAE's sampling), so a resumed run draws on from there. */
  readonly draws: number;
}

/** A batch's mean loss and its named parts (empty for a plain autoencoder). */
export interface StepResult {
  readonly loss: number;
  readonly terms: Record<string, number>;
}

export interface Requests {
  init: {
    request: { backend: BackendChoice; model: ModelSpec; optimizer: OptimizerSpec; loss: LossName; replica: number; shared?: SharedGradients };
    result: { backend: BackendName; skipped: Array<{ name: BackendName; reason: string }>; parameters: number };
  };
  /** Starts a training phase: `layer` k trains greedy layer k alone, null the whole model; fresh optimizer state. */
  phase: { request: { layer: number | null }; result: Record<never, never> };
  step: { request: BatchPayload; result: StepResult };
  shareStep: { request: BatchPayload & { weight: number }; result: StepResult };
  /** The loss without training; `inputLoss` is the loss of the input itself against the target (doing nothing). */
  evaluate: { request: BatchPayload; result: StepResult & { inputLoss: number | null } };
  reconstruct: { request: BatchPayload; result: { y: Float32Array } };
  /** Decodes codes (x holds them, `cols` wide). */
  decode: { request: BatchPayload; result: { y: Float32Array; cols: number } };
  encode: { request: BatchPayload; result: { z: Float32Array; cols: number } };
  weights: { request: Record<never, never>; result: { weights: Float32Array[] } };
  save: { request: { dir: string }; result: { parts: string[] } };
  /** Loads a saved LayersModel under a name (`as`, default "model"); a worker can hold several. */
  load: { request: { backend: BackendChoice; model: string; as?: string }; result: { backend: BackendName; inputs: number; outputs: number } };
  predict: { request: BatchPayload & { model?: string }; result: { y: Float32Array; cols: number } };
  memory: { request: Record<never, never>; result: { numTensors: number; numBytes: number } };
  /** Σx and Σxxᵀ of a batch (for PCA fitted while the data streams). */
  gram: { request: BatchPayload; result: { sum: Float32Array; outer: Float32Array } };
  /** Each row's 0.5·mean squared reconstruction error under the loaded model. */
  rowErrors: { request: BatchPayload & { model?: string }; result: { errors: Float32Array } };
  /**
   * Linear and nearest-neighbour probes of features: a softmax regression on standardized features and a
   * k-nearest-neighbours vote (Euclidean), both scored on the test rows. Arrays are rows × dims, labels 0..classes-1.
   */
  probe: { request: ProbeRequest; result: { logistic: number; knn: number } };
  /** Everything training needs to go on exactly: weights, optimizer state, the model's random draws. */
  state: { request: Record<never, never>; result: ReplicaState };
  restore: { request: { state: ReplicaState }; result: Record<never, never> };
}

export type Kind = keyof Requests;
export type Request<K extends Kind = Kind> = K extends Kind ? { kind: K } & Requests[K]['request'] : never;
export type Response<K extends Kind = Kind> = { ok: true; result: Requests[K]['result'] } | { ok: false; error: SerializedError };
