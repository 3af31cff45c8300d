/**
 * Messages between the main thread and a trainer worker. Types only: both sides import this file.
 *
 * Each worker holds one replica of the model and its optimizer. With one worker, `step` trains on a batch.
 * With several (data parallel), each replica computes `gradients` on its share of a batch, the main thread
 * averages them weighted by rows, and every replica `apply`s the same average, so the replicas stay identical.
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

/** A batch's mean loss and its named parts (empty for a plain autoencoder). */
export interface StepResult {
  readonly loss: number;
  readonly terms: Record<string, number>;
}

export interface Requests {
  init: {
    request: { backend: BackendChoice; model: ModelSpec; optimizer: OptimizerSpec; loss: LossName; replica: number };
    result: { backend: BackendName; skipped: Array<{ name: BackendName; reason: string }>; parameters: number };
  };
  /** Starts a training phase: `layer` k trains greedy layer k alone, null the whole model; fresh optimizer state. */
  phase: { request: { layer: number | null }; result: Record<never, never> };
  step: { request: BatchPayload; result: StepResult };
  gradients: { request: BatchPayload; result: StepResult & { gradients: Float32Array } };
  apply: { request: { gradients: Float32Array }; result: Record<never, never> };
  /** The loss without training; `inputLoss` is the loss of the input itself against the target (doing nothing). */
  evaluate: { request: BatchPayload; result: StepResult & { inputLoss: number | null } };
  reconstruct: { request: BatchPayload; result: { y: Float32Array } };
  /** Decodes codes (x holds them, `cols` wide). */
  decode: { request: BatchPayload; result: { y: Float32Array; cols: number } };
  encode: { request: BatchPayload; result: { z: Float32Array; cols: number } };
  weights: { request: Record<never, never>; result: { weights: Float32Array[] } };
  save: { request: { dir: string }; result: { parts: string[] } };
  load: { request: { backend: BackendChoice; model: string }; result: { backend: BackendName; inputs: number; outputs: number } };
  predict: { request: BatchPayload; result: { y: Float32Array; cols: number } };
  memory: { request: Record<never, never>; result: { numTensors: number; numBytes: number } };
}

export type Kind = keyof Requests;
export type Request<K extends Kind = Kind> = K extends Kind ? { kind: K } & Requests[K]['request'] : never;
export type Response<K extends Kind = Kind> = { ok: true; result: Requests[K]['result'] } | { ok: false; error: SerializedError };
