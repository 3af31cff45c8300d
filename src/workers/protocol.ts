/**
 * Messages between the main thread and a trainer worker. Types only: both sides import this file.
 *
 * Each worker holds one replica of the model and its optimizer. With one worker, `step` trains on a batch.
 * With several (data parallel), each replica runs `shareStep` on its share of a batch, and the replicas combine them through shared memory (see SharedTraining). One round
 * trip per step, and no gradient or weight is copied through messages.
 */
import type { BackendChoice, BackendName } from '../backend.js';
import type { SerializedError } from '../errors.js';
import type { ReplicaState } from '../types.js';

export type { ReplicaState } from '../types.js';
import type { ModelSpec } from '../models/layers.js';
import type { LossName } from '../models/losses.js';
import type { OptimizerSpec } from '../models/optimizer.js';

export type { OptimizerSpec } from '../models/optimizer.js';

/**
 * Rows packed row-major: in transferred buffers, or (training steps) in shared memory the main thread reuses
 * once the step is done, with `start` the first of the `rows` rows this worker takes.
 */
export interface BatchPayload {
  readonly x: Float32Array;
  /** Clean targets when they differ from x (denoising); null: reconstruct x. */
  readonly target: Float32Array | null;
  readonly rows: number;
  readonly cols: number;
  /** The first row of x to use (default 0). */
  readonly start?: number;
}

/**
 * Memory the replicas of a data-parallel run share. A step: each replica writes its gradients into its slot;
 * barrier; each sums the slots for its share of the parameters (in a fixed order) and updates that share of
 * the parameters and of Adam's moments; barrier; each sets its variables from all the parameters. Every
 * replica ends the step with the same weights, and the optimizer's work is split between them.
 */
export interface SharedTraining {
  readonly replicas: number;
  readonly parameters: number;
  /**
   * Shared WebAssembly memory (so that AdamKernel can work in it; a SharedArrayBuffer for a model too large
   * for one, see kernelMemory), `parameters` floats per region, in order:
   * `replicas` gradient slots, the trained parameters (flat), Adam's first and second moments, and with more
   * than two replicas a sum of their gradients.
   */
  readonly memory: WebAssembly.Memory | SharedArrayBuffer;
  /** Int32 [arrived, generation]. */
  readonly barrier: SharedArrayBuffer;
}

/**
 * The regions of a training memory (see SharedTraining) as arrays of `size` ≤ `parameters` floats; with more
 * than two replicas also room for the optimizer to sum their gradients in.
 */
export function trainingRegions(
  memory: WebAssembly.Memory | ArrayBuffer | SharedArrayBuffer,
  replicas: number,
  parameters: number,
  size: number,
): { slots: Float32Array[]; params: Float32Array; m: Float32Array; v: Float32Array; sum: Float32Array | undefined } {
  const buffer = memory instanceof WebAssembly.Memory ? memory.buffer : memory;
  const region = (k: number) => new Float32Array(buffer, k * parameters * 4, size);
  return {
    slots: Array.from({ length: replicas }, (_, k) => region(k)),
    params: region(replicas),
    m: region(replicas + 1),
    v: region(replicas + 2),
    sum: replicas > 2 ? region(replicas + 3) : undefined,
  };
}

/** Floats a training memory holds. */
export function trainingFloats(replicas: number, parameters: number): number {
  return (replicas + 3 + (replicas > 2 ? 1 : 0)) * parameters;
}

/** A worker's tensors, and where its optimizer's last step ran (AdamKernel or the JavaScript loop). */
export interface WorkerMemory {
  readonly numTensors: number;
  readonly numBytes: number;
  readonly optimizerLoop: 'kernel' | 'javascript' | null;
}

/** A batch's mean loss and its named parts (empty for a plain autoencoder). */
export interface StepResult {
  readonly loss: number;
  readonly terms: Record<string, number>;
}

export interface Requests {
  init: {
    request: { backend: BackendChoice; model: ModelSpec; optimizer: OptimizerSpec; loss: LossName; replica: number; shared?: SharedTraining };
    result: { backend: BackendName; skipped: Array<{ name: BackendName; reason: string }>; matMul: string; parameters: number };
  };
  /** Starts a training phase: `layer` k trains greedy layer k alone, null the whole model; fresh optimizer state. */
  phase: { request: { layer: number | null }; result: Record<never, never> };
  /** `lr`: the learning rate of this step (the schedule's, computed where the steps are counted). */
  step: { request: BatchPayload & { lr: number }; result: StepResult };
  /** `shares`: every replica's fraction of the batch's rows (its gradient's weight in the sum); `lr` as for step. */
  shareStep: { request: BatchPayload & { shares: number[]; lr: number }; result: StepResult };
  /** The loss without training; `inputLoss` is the loss of the input itself against the target (doing nothing). */
  evaluate: { request: BatchPayload; result: StepResult & { inputLoss: number | null } };
  reconstruct: { request: BatchPayload; result: { y: Float32Array } };
  /** Decodes codes (x holds them, `cols` wide). */
  decode: { request: BatchPayload; result: { y: Float32Array; cols: number } };
  encode: { request: BatchPayload; result: { z: Float32Array; cols: number } };
  weights: { request: Record<never, never>; result: { weights: Float32Array[] } };
  save: { request: { dir: string }; result: { parts: string[] } };
  memory: { request: Record<never, never>; result: WorkerMemory };
  /** Everything training needs to go on exactly: weights, optimizer state, the model's random draws. */
  state: { request: Record<never, never>; result: ReplicaState };
  restore: { request: { state: ReplicaState }; result: Record<never, never> };
  /** Frees the replica (its model and optimizer), so the thread can go on to other work. */
  release: { request: Record<never, never>; result: Record<never, never> };
}

export type Kind = keyof Requests;
export type Request<K extends Kind = Kind> = K extends Kind ? { kind: K } & Requests[K]['request'] : never;
export type Response<K extends Kind = Kind> = { ok: true; result: Requests[K]['result'] } | { ok: false; error: SerializedError };
