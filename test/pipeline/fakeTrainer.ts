import { loadPipeline } from '../../src/config/load.js';
import { type TrainingEvent, type TrainOptions, trainingEvents } from '../../src/pipeline/train.js';
import type { TrainerPort } from '../../src/pipeline/trainerPort.js';
import type { Checkpoint } from '../../src/sinks/checkpoint.js';
import type { ReplicaState, StepResult } from '../../src/workers/protocol.js';
import { fixture } from '../helpers.js';

/** A checksum of a batch that depends on every value and its position: two different batches differ. */
export function checksum(x: Float32Array): number {
  let s = 0;
  for (let i = 0; i < x.length; i++) s += (i + 1) * x[i];
  return s;
}

export interface FakeOptions {
  /** Called after each step with the step's number over the trainer's life (1-based). */
  readonly afterStep?: (step: number) => void;
  /** Replaces the loss of a step (e.g. NaN to make the run diverge). */
  readonly loss?: (step: number, natural: number) => number;
  /** Replaces the loss of a test batch, given the steps taken so far (e.g. to make the test loss rise). */
  readonly testLoss?: (steps: number, natural: number) => number;
}

/**
 * A trainer without threads or TensorFlow.js. Its whole "model" is the number of steps it has taken: every
 * loss depends on that and on the batch, so a resumed run that skipped the wrong batches, or restored the wrong
 * state, reports other numbers than the run left alone.
 */
export class FakeTrainer implements TrainerPort {
  readonly backend = 'cpu' as const;
  readonly skipped = [];
  readonly matMul = 'cpu';
  readonly parameters = 42;
  /** What the run asked for, in order (steps and evaluations left out). */
  readonly calls: string[] = [];
  /** The checksum of every batch trained on, in order. */
  readonly trained: number[] = [];
  /** The learning rate every step was given, in order. */
  readonly rates: number[] = [];
  /** `steps` (the whole "model") when the model was saved. */
  savedSteps: number | null = null;
  steps = 0;
  closed = 0;
  readonly allocate = (length: number) => new Float32Array(length);

  constructor(private readonly options: FakeOptions = {}) {}

  async step(x: Float32Array, _target: Float32Array | null, rows: number, _cols: number, lr: number): Promise<StepResult> {
    this.steps++;
    this.rates.push(lr);
    const sum = checksum(x);
    this.trained.push(sum);
    const natural = sum / rows / (1 + this.steps);
    const loss = this.options.loss ? this.options.loss(this.steps, natural) : natural;
    this.options.afterStep?.(this.steps);
    return { loss, terms: {} };
  }

  async evaluate(x: Float32Array, target: Float32Array | null, rows: number): Promise<StepResult & { inputLoss: number | null }> {
    const natural = checksum(x) / rows / (1 + this.steps);
    const loss = this.options.testLoss ? this.options.testLoss(this.steps, natural) : natural;
    return { loss, terms: {}, inputLoss: target ? checksum(target) / rows : null };
  }

  async phase(layer: number | null): Promise<void> {
    this.calls.push(`phase ${layer}`);
  }

  async state(): Promise<ReplicaState> {
    this.calls.push('state');
    return { weights: [Float32Array.of(this.steps)], optimizer: [], adamPowers: null, draws: 0 };
  }

  async restore(state: ReplicaState): Promise<void> {
    this.calls.push(`restore ${state.weights[0][0]}`);
    this.steps = state.weights[0][0];
  }

  async reconstruct(x: Float32Array): Promise<Float32Array> {
    return x.map((v) => v / 2);
  }

  async encode(_x: Float32Array, rows: number): Promise<{ z: Float32Array; cols: number }> {
    return { z: new Float32Array(rows * 2), cols: 2 };
  }

  async decode(z: Float32Array, rows: number): Promise<{ y: Float32Array; cols: number }> {
    return { y: new Float32Array(rows * 16).fill(z.length > 0 ? 0.5 : 0), cols: 16 };
  }

  async memory(): Promise<{ numTensors: number }> {
    return { numTensors: 7 };
  }

  async save(dir: string): Promise<unknown> {
    this.calls.push(`save ${dir}`);
    this.savedSteps = this.steps;
    return [];
  }

  handOver(): never {
    throw new Error('the fake trainer has no threads to hand over');
  }

  async close(): Promise<void> {
    this.closed++;
  }
}

// Whole training runs over the tiny CSVs (96 training rows in 6 batches of 16, 32 test rows) with a fake trainer:
// the real dataflow, events and resume logic, no worker threads.
const sets = ['cache.enabled=false'];

export interface Outcome {
  readonly events: TrainingEvent[];
  readonly error: unknown;
  readonly trainer: FakeTrainer;
}

/** Runs a pipeline with a fake trainer to its end or its error, collecting every event on the way. */
export async function runFake(yaml: string, extra: string[] = [], fake: FakeOptions = {}, options: TrainOptions = {}): Promise<Outcome> {
  const loaded = await loadPipeline(fixture(yaml), [...sets, ...extra]);
  const trainer = new FakeTrainer(fake);
  const events: TrainingEvent[] = [];
  const error = await new Promise<unknown>((resolve) =>
    trainingEvents(loaded, { ...options, startTrainer: async () => trainer }).subscribe({
      next: (e) => events.push(e),
      error: resolve,
      complete: () => resolve(null),
    }),
  );
  return { events, error, trainer };
}

export const epochsOf = (events: TrainingEvent[]) => events.filter((e): e is Extract<TrainingEvent, { type: 'epoch' }> => e.type === 'epoch');
export const checkpointsOf = (events: TrainingEvent[]) =>
  events.filter((e) => e.type === 'checkpoint').map((e) => (e as { checkpoint: Checkpoint }).checkpoint);
