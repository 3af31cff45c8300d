import type { BackendChoice, BackendName } from '../backend.js';
import type { SoftmaxRegressionOptions } from '../models/softmaxRegression.js';
import type { FeatureSet, InferenceRequests, RowStatistics } from './inferenceProtocol.js';
import { BatchBuffers } from './batchBuffers.js';
import { WorkerThreads } from './threads.js';

export interface InferenceOptions {
  /** A run's model folder (encoder/ and decoder/), or an encoder folder alone. */
  readonly model: string;
  readonly backend: BackendChoice;
  readonly workers: number;
  readonly signal?: AbortSignal;
  /** Threads to load the model in (a trainer's, handed over), instead of new ones. */
  readonly threads?: WorkerThreads<InferenceRequests>;
}

/**
 * A saved model in one or more inference workers, seen from the main thread: what `encode` and `evaluate` ask of
 * it. Every worker holds the whole model. Work on independent rows goes to the workers in turn; the probes hold
 * a share of the test rows in each worker and see every training row (see `evaluate.ts`).
 */
export class Inference {
  private readonly buffers = new BatchBuffers();

  private constructor(
    private readonly threads: WorkerThreads<InferenceRequests>,
    readonly backend: BackendName,
    /** Whose matMul the workers run (see BackendSelection). */
    readonly matMul: string,
    readonly inputs: number,
    readonly codeSize: number,
    readonly hasDecoder: boolean,
  ) {}

  static async start(options: InferenceOptions): Promise<Inference> {
    // Capped as the trainer's (see Trainer.start): tensors live in WASM memory, the JavaScript heap holds little.
    const threads =
      options.threads ?? WorkerThreads.create<InferenceRequests>('infer', options.workers, { signal: options.signal, heap: { oldMb: 64, youngMb: 8 } });
    try {
      const [first] = await threads.broadcast({ kind: 'load', backend: options.backend, model: options.model });
      return new Inference(threads, first.backend, first.matMul, first.inputs, first.code, first.decoder);
    } catch (e) {
      await threads.close();
      throw e;
    }
  }

  get workers(): number {
    return this.threads.size;
  }

  /**
   * Shared memory to pack a batch in: requests then read it in place, in one worker or in all. Give it back
   * once answered. The buffers outlive passes: a fresh set per pass lingered until a garbage collection and
   * fragmented the process's memory, which grew pass after pass (`bench/run.mjs`, memory section).
   */
  readonly allocate = (length: number): Float32Array => this.buffers.allocate(length);

  readonly release = (x: Float32Array): void => this.buffers.give(x);

  /**
   * The codes of rows × inputs. Rows in shared memory are read where they are; any other buffer moves to the
   * worker (so is no longer the caller's).
   */
  async encode(x: Float32Array, rows: number): Promise<Float32Array> {
    return (await this.threads.call(this.threads.anyReplica(), { kind: 'encode', x, rows, cols: this.inputs }, movable(x))).z;
  }

  /** The codes of rows × inputs as CSV text (see featureRows; the buffer rules are encode's). */
  async encodeText(x: Float32Array, rows: number, labels: Float32Array | null | undefined): Promise<Uint8Array> {
    return (await this.threads.call(this.threads.anyReplica(), { kind: 'encodeText', x, rows, cols: this.inputs, labels }, movable(x))).text;
  }

  /** Each row's reconstruction error; `collect` also adds the rows to the statistics PCA is fitted from. */
  async errors(x: Float32Array, rows: number, collect: boolean): Promise<Float32Array> {
    return (await this.threads.call(this.threads.anyReplica(), { kind: 'errors', x, rows, cols: this.inputs, collect }, movable(x))).errors;
  }

  /** The statistics every worker collected, summed (float64). */
  async statistics(): Promise<RowStatistics> {
    // A worker that saw no batch has nothing to give.
    const seen = (await this.threads.broadcast({ kind: 'statistics' })).filter((p): p is RowStatistics => p !== null);
    if (seen.length === 0) throw new Error('no rows were collected');
    const total = seen[0];
    for (const p of seen.slice(1)) {
      for (const key of ['sum', 'outer', 'codeSum', 'codeSquares'] as const) for (let i = 0; i < p[key].length; i++) total[key][i] += p[key][i];
    }
    return { ...total, rows: seen.reduce((n, p) => n + p.rows, 0) };
  }

  async setPca(mean: Float32Array, components: Float32Array, k: number): Promise<void> {
    await this.threads.broadcast({ kind: 'setPca', mean, components, k });
  }

  /** Each row's error and its `top` contributing input columns (see the worker's `contributions`). */
  contributions(x: Float32Array, rows: number, groups: Int32Array, columns: number, top: number): Promise<InferenceRequests['contributions']['result']> {
    return this.threads.call(this.threads.anyReplica(), { kind: 'contributions', x, rows, cols: this.inputs, groups, columns, top }, movable(x));
  }

  /** The model's and PCA's error of each row, and the model's codes (see `encode` for the buffer). */
  score(x: Float32Array, rows: number): Promise<InferenceRequests['score']['result']> {
    return this.threads.call(this.threads.anyReplica(), { kind: 'score', x, rows, cols: this.inputs }, movable(x));
  }

  /** Worker `i` holds `queries[i]` (rows × inputs) and trains the logistic probes assigned to it. */
  async probeStart(queries: Float32Array[], k: number, logistic: Array<Array<{ set: FeatureSet; options: SoftmaxRegressionOptions }>>): Promise<void> {
    await Promise.all(
      queries.map((q, i) => this.threads.call(i, { kind: 'probeStart', queries: q, rows: q.length / this.inputs, k, logistic: logistic[i] }, movable(q))),
    );
  }

  /** One batch of training rows to every worker, from shared memory (read, not copied, by each). */
  async probeBatch(x: Float32Array, rows: number, labels: Int32Array, indices: Int32Array, neighbours: boolean): Promise<void> {
    await Promise.all(
      Array.from({ length: this.workers }, (_, i) =>
        this.threads.call(i, { kind: 'probeBatch', x, rows, cols: this.inputs, labels, indices, neighbours, logistic: true }),
      ),
    );
  }

  /** Every worker's nearest-neighbour votes, in the order of their queries. */
  async votes(): Promise<Array<Record<FeatureSet, Int32Array>>> {
    return this.threads.broadcast({ kind: 'votes' });
  }

  async logisticWeights(worker: number, set: FeatureSet): Promise<Float32Array> {
    return (await this.threads.call(worker, { kind: 'logisticWeights', set })).weights;
  }

  /** Every worker's predictions for its queries with these weights, in the order of their queries. */
  async logisticPredict(set: FeatureSet, weights: Float32Array, options: SoftmaxRegressionOptions): Promise<Int32Array[]> {
    return (await this.threads.broadcast({ kind: 'logisticPredict', set, weights, options })).map((r) => r.predicted);
  }

  async probeEnd(): Promise<void> {
    await this.threads.broadcast({ kind: 'probeEnd' });
  }

  async tensors(): Promise<number[]> {
    return (await this.threads.broadcast({ kind: 'memory' })).map((m) => m.numTensors);
  }

  close(): Promise<void> {
    return this.threads.close();
  }
}

/** A buffer to transfer with a request: none for shared memory, which the worker reads in place. */
function movable(x: Float32Array): ArrayBufferLike[] {
  return x.buffer instanceof SharedArrayBuffer ? [] : [x.buffer];
}
