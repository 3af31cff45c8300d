import { defer, from, lastValueFrom, mergeMap, Observable, reduce, take, tap, toArray, finalize } from 'rxjs';
import type { LoadedPipeline } from '../config/load.js';
import type { BackendChoice, BackendName } from '../backend.js';
import { models } from '../models/builtins.js';
import { FlowControl } from '../sources/flowControl.js';
import { Trainer } from '../workers/pool.js';
import { describeDataflow, splitBatches, splitRows } from './dataflow.js';

/** What a training run tells its side branches; sinks subscribe to these and only write. */
export type TrainingEvent =
  | {
      type: 'start';
      pipeline: string;
      dataflow: string;
      backend: BackendName;
      skipped: Array<{ name: BackendName; reason: string }>;
      workers: number;
      parameters: number;
    }
  | { type: 'batch'; epoch: number; epochs: number; rows: number; loss: number; fraction: number; seconds: number }
  | {
      type: 'epoch';
      epoch: number;
      epochs: number;
      trainLoss: number;
      testLoss: number;
      seconds: number;
      samplesPerS: number;
      rows: number;
      testRows: number;
      tensors: number;
      log: boolean;
      snapshot: Snapshot | null;
    }
  | { type: 'end'; final: Snapshot; trainer: Trainer };

/** Reconstructions of the preview images (the first rows×cols test rows) after an epoch. */
export interface Snapshot {
  readonly epoch: number;
  readonly inputs: Float32Array[];
  readonly reconstructions: Float32Array[];
}

export interface TrainOptions {
  readonly backend?: BackendChoice;
  readonly workers?: number;
  readonly signal?: AbortSignal;
}

/**
 * Trains the pipeline's model and narrates it as events. Each epoch streams the training CSV again through
 * the stages into the worker(s), then the test CSV for the test loss. The `end` event hands over the live
 * trainer so the caller can save the model; the caller closes it.
 */
export function trainingEvents(loaded: LoadedPipeline, options: TrainOptions = {}): Observable<TrainingEvent> {
  return new Observable<TrainingEvent>((subscriber) => {
    let trainer: Trainer | null = null;
    let handedOver = false;
    const run = async () => {
      const { config } = loaded;
      const model = models.get(config.model.type);
      const workers = options.workers ?? config.train.workers;
      trainer = await Trainer.start({
        workers,
        backend: options.backend ?? config.train.backend,
        signal: options.signal,
        init: { model: model.spec(config.model, config.seed), optimizer: config.optimizer, loss: config.loss },
      });
      const t = trainer;
      subscriber.next({
        type: 'start',
        pipeline: loaded.name,
        dataflow: describeDataflow(config, model.describe(config.model), `x${workers} worker${workers === 1 ? '' : 's'}, ${t.backend}`),
        backend: t.backend,
        skipped: t.skipped,
        workers,
        parameters: t.parameters,
      });

      const preview = await lastValueFrom(splitRows(config, 'test').pipe(take(config.snapshots.rows * config.snapshots.cols), toArray()));
      const previewX = preview.map((r) => r.x);
      const width = previewX[0].length;
      const snapshot = async (epoch: number): Promise<Snapshot> => {
        const packed = new Float32Array(previewX.length * width);
        previewX.forEach((x, i) => {
          packed.set(x, i * width);
        });
        const y = await t.reconstruct(packed, previewX.length, width);
        return { epoch, inputs: previewX, reconstructions: previewX.map((_, i) => y.slice(i * width, (i + 1) * width)) };
      };

      const epochs = config.train.epochs;
      let knownRows = 0;
      let last: Snapshot | null = null;
      for (let epoch = 1; epoch <= epochs; epoch++) {
        const started = performance.now();
        const flow = new FlowControl(2);
        // Until an epoch has counted the rows, estimate them from the bytes per row parsed so far.
        let estimatedRows = 0;
        let rows = 0;
        let lossSum = 0;
        await lastValueFrom(
          splitBatches(config, 'train', epoch, { flow, progress: (read, total, parsed) => (estimatedRows = (parsed * total) / read) }).pipe(
            mergeMap((batch) => {
              flow.acquire();
              return defer(() => t.step(batch.x, batch.target, batch.rows, batch.cols)).pipe(
                tap((loss) => {
                  rows += batch.rows;
                  lossSum += loss * batch.rows;
                  subscriber.next({
                    type: 'batch',
                    epoch,
                    epochs,
                    rows,
                    loss: lossSum / rows,
                    fraction: rows / (knownRows || estimatedRows || Number.POSITIVE_INFINITY),
                    seconds: (performance.now() - started) / 1000,
                  });
                }),
                finalize(() => flow.release()),
              );
            }, 2),
          ),
          { defaultValue: 0 },
        );
        const seconds = (performance.now() - started) / 1000;
        knownRows = rows;
        const test = await evaluate(loaded, t, workers);
        const isLast = epoch === epochs;
        const log = isLast || epoch % config.train.log_every === 0;
        const snap = config.snapshots.every > 0 && (isLast || epoch % config.snapshots.every === 0) ? await snapshot(epoch) : null;
        if (snap) last = snap;
        // Live tensors in the worker: flat from epoch to epoch unless something leaks.
        const { numTensors } = await t.memory();
        subscriber.next({
          type: 'epoch',
          epoch,
          epochs,
          trainLoss: lossSum / rows,
          testLoss: test.loss,
          seconds,
          samplesPerS: rows / seconds,
          rows,
          testRows: test.rows,
          tensors: numTensors,
          log,
          snapshot: snap,
        });
      }
      handedOver = true;
      subscriber.next({ type: 'end', final: last ?? (await snapshot(epochs)), trainer: t });
      subscriber.complete();
    };
    run().catch((e) => subscriber.error(e));
    return () => {
      if (!handedOver) void trainer?.close();
    };
  });
}

/** Mean loss over the whole test split (weighted by rows), evaluation batches spread over the replicas. */
async function evaluate(loaded: LoadedPipeline, trainer: Trainer, workers: number): Promise<{ loss: number; rows: number }> {
  const flow = new FlowControl(workers + 1);
  const totals = await lastValueFrom(
    splitBatches(loaded.config, 'test', 0, { flow }).pipe(
      mergeMap((batch) => {
        flow.acquire();
        return from(trainer.evaluate(batch.x, batch.target, batch.rows, batch.cols).then((loss) => ({ loss, rows: batch.rows }))).pipe(
          finalize(() => flow.release()),
        );
      }, workers + 1),
      reduce((acc, b) => ({ sum: acc.sum + b.loss * b.rows, rows: acc.rows + b.rows }), { sum: 0, rows: 0 }),
    ),
  );
  return { loss: totals.sum / totals.rows, rows: totals.rows };
}
