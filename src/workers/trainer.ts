import type { BackendChoice, BackendName } from '../backend.js';
import { parameterCount } from '../models/layers.js';
import { kernelMemory } from '../models/adamKernel.js';
import { type BatchPayload, type Request, type Requests, type SharedTraining, type StepResult, trainingFloats, type WorkerMemory } from './protocol.js';
import { BatchBuffers } from './batchBuffers.js';
import type { InferenceRequests } from './inferenceProtocol.js';
import { WorkerThreads } from './threads.js';

/** The trainer worker's threads. */
export type WorkerPool = WorkerThreads<Requests>;

/** A batch as a transferable payload: the buffers are moved, the caller must not use them afterwards. */
export function payload(x: Float32Array, target: Float32Array | null, rows: number, cols: number): { batch: BatchPayload; transfer: ArrayBufferLike[] } {
  const transfer: ArrayBufferLike[] = [x.buffer];
  if (target && target.buffer !== x.buffer) transfer.push(target.buffer);
  return { batch: { x, target, rows, cols }, transfer };
}

export interface TrainerOptions {
  readonly workers: number;
  readonly backend: BackendChoice;
  readonly init: Omit<Requests['init']['request'], 'backend' | 'replica'>;
  readonly signal?: AbortSignal;
}

/** One model trained by one or more replicas, seen from the main thread. */
export class Trainer {
  private readonly buffers = new BatchBuffers();
  /** Memory to pack training batches in (see BatchBuffers): `step` then sends them without a copy. */
  readonly allocate = (length: number): Float32Array => this.buffers.allocate(length);

  private constructor(
    readonly pool: WorkerPool,
    readonly backend: BackendName,
    readonly skipped: Array<{ name: BackendName; reason: string }>,
    /** Whose matMul the workers run (see BackendSelection). */
    readonly matMul: string,
    readonly parameters: number,
  ) {}

  static async start(options: TrainerOptions): Promise<Trainer> {
    // A trainer worker's JavaScript heap holds little (tensors' data is in WASM or native memory), but V8 sizes
    // an uncapped one for far more, and in data-parallel runs lets it grow (a replica blocked at the barrier
    // seldom lets the collector finish): capped, the workers stay smaller at the same speed (`bench/run.mjs`,
    // memory section).
    const pool = WorkerThreads.create<Requests>('train', options.workers, { signal: options.signal, heap: { oldMb: 64, youngMb: 8 } });
    try {
      const shared = pool.size > 1 ? sharedTraining(pool.size, parameterCount(options.init.model)) : undefined;
      const results = await Promise.all(
        Array.from({ length: pool.size }, (_, replica) =>
          pool.call(replica, { kind: 'init', backend: options.backend, replica, shared, ...options.init } as Request<'init'>),
        ),
      );
      const first = results[0];
      return new Trainer(pool, first.backend, first.skipped, first.matMul, first.parameters);
    } catch (e) {
      await pool.close();
      throw e;
    }
  }

  private queue: Promise<unknown> = Promise.resolve();

  /**
   * Trains on one batch; resolves with its mean loss. A batch packed in `allocate`d memory is sent as it is and
   * its memory reused after the step; any other is copied (the caller keeps it). Steps run one
   * after another in call order, however many are requested at once: each worker runs its tasks in the order
   * sent, so the next step is sent at once and waits in the worker, not here. `lr`: this step's learning rate.
   */
  step(x: Float32Array, target: Float32Array | null, rows: number, cols: number, lr: number): Promise<StepResult> {
    const next = this.stepNow(x, target, rows, cols, lr);
    // Tasks finish in order, so the last step's end means every earlier one has ended.
    this.queue = next.catch(() => undefined);
    return next;
  }

  private async stepNow(x: Float32Array, target: Float32Array | null, rows: number, cols: number, lr: number): Promise<StepResult> {
    // The batch goes into reused shared memory that every replica reads its share of: no copy per replica, and
    // no buffer left behind in the workers for their garbage collectors.
    const xs = this.buffers.take(x);
    const ts = target ? this.buffers.take(target) : null;
    try {
      if (this.pool.size === 1) return await this.pool.call(0, { kind: 'step', x: xs, target: ts, rows, cols, lr });
      // Data parallel: contiguous shares of the batch, gradients weighted by share size. Every replica takes
      // part (with an empty share when the batch has fewer rows than replicas): they meet at a barrier.
      const shares = shareRows(rows, this.pool.size);
      const fractions = Array.from({ length: this.pool.size }, (_, i) => (shares[i]?.[1] ?? 0) / rows);
      const results = await Promise.all(
        Array.from({ length: this.pool.size }, (_, replica) => {
          const [start, count] = shares[replica] ?? [0, 0];
          return this.pool.call(replica, { kind: 'shareStep', shares: fractions, x: xs, target: ts, start, rows: count, cols, lr });
        }),
      );
      return weightedMean(results, fractions);
    } finally {
      this.buffers.give(xs);
      if (ts) this.buffers.give(ts);
    }
  }

  /** Starts a training phase on every replica (greedy layer k, or null for the whole model). */
  async phase(layer: number | null): Promise<void> {
    await this.queue;
    await this.pool.broadcast({ kind: 'phase', layer });
  }

  async evaluate(x: Float32Array, target: Float32Array | null, rows: number, cols: number): Promise<Requests['evaluate']['result']> {
    const { batch, transfer } = payload(x, target, rows, cols);
    return this.pool.call(this.pool.anyReplica(), { kind: 'evaluate', ...batch }, transfer);
  }

  async decode(z: Float32Array, rows: number, cols: number): Promise<{ y: Float32Array; cols: number }> {
    return this.pool.call(0, { kind: 'decode', x: z.slice(), target: null, rows, cols });
  }

  async reconstruct(x: Float32Array, rows: number, cols: number): Promise<Float32Array> {
    return (await this.pool.call(0, { kind: 'reconstruct', x: x.slice(), target: null, rows, cols })).y;
  }

  async encode(x: Float32Array, rows: number, cols: number): Promise<{ z: Float32Array; cols: number }> {
    const { batch, transfer } = payload(x, null, rows, cols);
    return this.pool.call(this.pool.anyReplica(), { kind: 'encode', ...batch }, transfer);
  }

  async save(dir: string): Promise<string[]> {
    return (await this.pool.call(0, { kind: 'save', dir })).parts;
  }

  /** The training state of the model (replica 0: all replicas hold the same). */
  async state(): Promise<Requests['state']['result']> {
    await this.queue;
    return this.pool.call(0, { kind: 'state' });
  }

  /** Puts a saved training state into every replica. */
  async restore(state: Requests['state']['result']): Promise<void> {
    await this.queue;
    await this.pool.broadcast({ kind: 'restore', state });
  }

  async weights(replica = 0): Promise<Float32Array[]> {
    return (await this.pool.call(replica, { kind: 'weights' })).weights;
  }

  async memory(replica = 0): Promise<WorkerMemory> {
    return this.pool.call(replica, { kind: 'memory' });
  }

  /**
   * Drops the replicas' training state and hands their threads on (to evaluate the saved model where it was
   * trained); the trainer may not be used afterwards.
   */
  async handOver(): Promise<WorkerThreads<InferenceRequests>> {
    await this.queue;
    await this.pool.broadcast({ kind: 'release' });
    return this.pool.handOver<InferenceRequests>('infer');
  }

  close(): Promise<void> {
    return this.pool.close();
  }
}

function sharedTraining(replicas: number, parameters: number): SharedTraining {
  return {
    replicas,
    parameters,
    memory: kernelMemory(trainingFloats(replicas, parameters), true),
    barrier: new SharedArrayBuffer(8),
  };
}

/** Loss and terms of several shares of one batch, weighted by share. */
function weightedMean(results: readonly StepResult[], weights: readonly number[]): StepResult {
  let loss = 0;
  const terms: Record<string, number> = {};
  results.forEach((r, i) => {
    loss += weights[i] * r.loss;
    for (const [name, v] of Object.entries(r.terms)) terms[name] = (terms[name] ?? 0) + weights[i] * v;
  });
  return { loss, terms };
}

/** [start, count] shares of `rows`, as even as possible, empty shares left out. */
export function shareRows(rows: number, parts: number): Array<[number, number]> {
  const shares: Array<[number, number]> = [];
  let start = 0;
  for (let i = 0; i < parts; i++) {
    const count = Math.floor(rows / parts) + (i < rows % parts ? 1 : 0);
    if (count > 0) shares.push([start, count]);
    start += count;
  }
  return shares;
}
