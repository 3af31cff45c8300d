import type { BackendChoice, BackendName } from '../backend.js';
import type { InferenceRequests } from '../workers/inferenceProtocol.js';
import type { ReplicaState, Requests, StepResult } from '../workers/protocol.js';
import type { WorkerThreads } from '../workers/threads.js';

/**
 * What a training run needs of its trainer: the workers' `Trainer` (src/workers) is one, and the unit tests drive
 * whole runs through a fake one, without threads.
 */
export interface TrainerPort {
  readonly backend: BackendName;
  readonly skipped: Array<{ name: BackendName; reason: string }>;
  /** Whose matMul the workers run. */
  readonly matMul: string;
  readonly parameters: number;
  /** Memory to pack training batches in; `step` then sends them without a copy. */
  readonly allocate: (length: number) => Float32Array;
  /** Trains on one batch at learning rate `lr`; steps run in call order. */
  step(x: Float32Array, target: Float32Array | null, rows: number, cols: number, lr: number): Promise<StepResult>;
  /** The loss of a batch without training; `inputLoss`: the input's own against the target (with noise). */
  evaluate(x: Float32Array, target: Float32Array | null, rows: number, cols: number): Promise<StepResult & { inputLoss: number | null }>;
  /** Starts a training phase: greedy layer k, or null for the whole model; fresh optimizer state. */
  phase(layer: number | null): Promise<void>;
  state(): Promise<ReplicaState>;
  restore(state: ReplicaState): Promise<void>;
  reconstruct(x: Float32Array, rows: number, cols: number): Promise<Float32Array>;
  encode(x: Float32Array, rows: number, cols: number): Promise<{ z: Float32Array; cols: number }>;
  decode(z: Float32Array, rows: number, cols: number): Promise<{ y: Float32Array; cols: number }>;
  memory(): Promise<{ readonly numTensors: number }>;
  save(dir: string): Promise<unknown>;
  /** Hands the threads on to evaluate the saved model where it was trained; the trainer may not be used afterwards. */
  handOver(): Promise<WorkerThreads<InferenceRequests>>;
  close(): Promise<void>;
}

/** How a training run starts its trainer (`Trainer.start` unless a test says otherwise). */
export type StartTrainer = (options: {
  readonly workers: number;
  readonly backend: BackendChoice;
  readonly init: Omit<Requests['init']['request'], 'backend' | 'replica' | 'shared'>;
}) => Promise<TrainerPort>;
