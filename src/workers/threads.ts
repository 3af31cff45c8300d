import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Piscina } from 'piscina';
import { AeflowError, fromSerialized, type SerializedError } from '../errors.js';

/** A worker's message types: request kinds, each with its request and result. */
export type Messages<M> = { [K in keyof M]: { request: object; result: unknown } };
type Request<M extends Messages<M>, K extends keyof M> = { kind: K } & M[K]['request'];
type Response<M extends Messages<M>, K extends keyof M> = { ok: true; result: M[K]['result'] } | { ok: false; error: SerializedError };

/**
 * The workers' task file (worker.ts: every job's handler, by name). From compiled code it sits beside this file;
 * when this module runs from source (tests), the compiled worker in dist/ is used, since worker threads load
 * plain JavaScript.
 */
export function workerFile(): string {
  const here = fileURLToPath(import.meta.url);
  const beside = path.join(path.dirname(here), 'worker.js');
  if (here.endsWith('.js')) return beside;
  const compiled = path.resolve(path.dirname(here), '../../dist/workers/worker.js');
  if (!existsSync(compiled)) throw new Error(`${compiled} is missing: run \`npm run build\` first`);
  return compiled;
}

/** The jobs a worker does, each a named export of worker.ts. */
export type Handler = 'train' | 'infer';

export interface ThreadOptions {
  readonly signal?: AbortSignal;
  /** Caps each worker's JavaScript heap (not its WASM memory, where tensors live). */
  readonly heap?: { oldMb: number; youngMb: number };
  /** What every thread starts with (piscina's workerData), a replacement for one that died included. */
  readonly workerData?: unknown;
}

/**
 * The worker threads of one job, created and torn down here. Each replica is its own single-thread piscina
 * pool, so every request for a replica reaches the thread that holds its state (a model, held rows). Requests
 * go to one handler (`train`, `infer`); the threads can be handed on to another job (`handOver`), which then
 * owns them: a run evaluates its model in the threads that trained it, with TensorFlow.js already loaded.
 */
export class WorkerThreads<M extends Messages<M>> {
  private closed = false;
  private next = 0;

  private constructor(
    private readonly pools: Piscina[],
    private readonly handler: Handler,
    private readonly signal?: AbortSignal,
  ) {}

  static create<M extends Messages<M>>(handler: Handler, replicas: number, options: ThreadOptions = {}): WorkerThreads<M> {
    const filename = workerFile();
    const { heap, workerData } = options;
    const resourceLimits = heap && { maxOldGenerationSizeMb: heap.oldMb, maxYoungGenerationSizeMb: heap.youngMb };
    const pools = Array.from({ length: replicas }, () => {
      // Several tasks at a time per worker: the next requests wait in the worker's own queue while it works on
      // the current one, so the worker does not idle while the main thread gets round to sending one. Tasks
      // still run one after another, in order.
      const pool = new Piscina({
        filename,
        minThreads: 1,
        maxThreads: 1,
        concurrentTasksPerWorker: 4,
        idleTimeout: Number.POSITIVE_INFINITY,
        resourceLimits,
        workerData,
      });
      // A worker that fails outside a task (while loading) also rejects the task waiting for it, which reports
      // it; without a listener the pool's 'error' event would end the process with a stack trace.
      pool.on('error', () => undefined);
      return pool;
    });
    return new WorkerThreads<M>(pools, handler, options.signal);
  }

  /** The same threads for another job's handler; this one may not be used afterwards. */
  handOver<N extends Messages<N>>(handler: Handler): WorkerThreads<N> {
    if (this.closed) throw new AeflowError('WORKER_FAILED', 'the workers were already stopped', 'this is a bug in aeflow');
    this.closed = true;
    return new WorkerThreads<N>(this.pools, handler, this.signal);
  }

  get size(): number {
    return this.pools.length;
  }

  /** Sends one request to one replica; buffers named in `transfer` move to the worker. */
  async call<K extends keyof M & string>(replica: number, request: Request<M, K>, transfer: ArrayBufferLike[] = []): Promise<M[K]['result']> {
    if (this.closed) throw new AeflowError('WORKER_FAILED', 'the workers were already stopped', 'this is a bug in aeflow');
    let response: Response<M, K>;
    try {
      response = await this.pools[replica].run(request, { name: this.handler, transferList: transfer as ArrayBuffer[], signal: this.signal ?? null });
    } catch (e) {
      if ((e as Error).name === 'AbortError') throw e;
      throw new AeflowError(
        'WORKER_FAILED',
        `worker ${replica} failed during "${request.kind}": ${(e as Error).message}`,
        'rerun with --verbose; if the worker ran out of memory, use smaller batches',
      );
    }
    if (!response.ok) throw fromSerialized(response.error);
    return response.result;
  }

  /** The same request on every replica (a fresh copy of its payload for each). */
  broadcast<K extends keyof M & string>(request: Request<M, K>): Promise<Array<M[K]['result']>> {
    return Promise.all(this.pools.map((_, i) => this.call(i, request)));
  }

  /** A replica for work that needs no particular one, in turn. */
  anyReplica(): number {
    const i = this.next;
    this.next = (this.next + 1) % this.pools.length;
    return i;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all(this.pools.map((p) => p.destroy()));
  }
}
