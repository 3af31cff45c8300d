import { defer, finalize, lastValueFrom, map, mergeMap, Observable, reduce, skip, take, takeWhile, tap, toArray } from 'rxjs';
import type { BackendChoice, BackendName } from '../backend.js';
import type { LoadedPipeline } from '../config/load.js';
import { AeflowError } from '../errors.js';
import { CHECKPOINT_VERSION, type Checkpoint } from '../sinks/checkpoint.js';
import { models } from '../models/builtins.js';
import type { Phase } from '../models/layers.js';
import { BadRows, type SkippedRows } from '../sources/badRows.js';
import { FlowControl } from '../sources/flowControl.js';
import { Trainer } from '../workers/trainer.js';
import { resolveWorkers } from '../workers/workerCount.js';
import { describeDataflow, rowStages, splitBatches, splitRows, stageContext } from './dataflow.js';
import { copyRow } from '../rows.js';
import { interpolate, latentGrid, priorSamples } from './generate.js';

/**
 * Batches sent to the workers and not yet trained on. Each worker queues them (pool.ts), so it goes from one
 * step to the next without waiting for the main thread, which can pause (garbage collection, reading) for
 * longer than a step; with 2, the workers waited on a third of the steps. A batch is ~0.8 MB.
 */
const STEPS_IN_FLIGHT = 4;

/** What a training run tells its side branches; sinks subscribe to these and only write. */
export type TrainingEvent =
  | {
      type: 'start';
      pipeline: string;
      dataflow: string;
      backend: BackendName;
      skipped: Array<{ name: BackendName; reason: string }>;
      matMul: string;
      workers: number;
      parameters: number;
      phases: Phase[];
    }
  | { type: 'phase'; phase: Phase; index: number; phases: number }
  | { type: 'batch'; epoch: number; epochs: number; phase: string; rows: number; loss: number; fraction: number; seconds: number }
  | EpochEvent
  | { type: 'checkpoint'; checkpoint: Checkpoint }
  | { type: 'end'; final: Snapshot; generated: Generated | null; trainer: Trainer };

/** An epoch as metrics remember it (no pictures). */
export type EpochRecord = Omit<EpochEvent, 'type' | 'snapshot'>;

export interface EpochEvent {
  type: 'epoch';
  /** Counted over the whole run, across phases. */
  epoch: number;
  epochs: number;
  phase: string;
  phaseEpoch: number;
  trainLoss: number;
  /** Named parts of the training loss (a VAE's reconstruction and kl), means over the epoch. */
  trainTerms: Record<string, number>;
  testLoss: number;
  testTerms: Record<string, number>;
  /** The loss of the noisy test input itself against the clean one (what doing nothing scores), with noise. */
  noisyInputLoss: number | null;
  seconds: number;
  samplesPerS: number;
  rows: number;
  testRows: number;
  /** Live tensors in the worker after the epoch: flat unless something leaks. */
  tensors: number;
  /** The process's resident memory after the epoch (worker threads included). */
  rssMb: number;
  /** Under `on_bad_row: skip`: the rows this epoch's passes skipped, per split. */
  skipped: { train: SkippedRows; test: SkippedRows } | null;
  log: boolean;
  snapshot: Snapshot | null;
}

/** The preview images (the first rows×cols test rows, through the stages) and their reconstructions. */
export interface Snapshot {
  readonly epoch: number;
  readonly phase: string;
  /** What the model saw: noisy under a noise stage. */
  readonly inputs: Float32Array[];
  /** The clean rows; the same arrays as `inputs` without noise. */
  readonly targets: Float32Array[];
  readonly reconstructions: Float32Array[];
}

/** A generative model's pictures, decoded after training. */
export interface Generated {
  readonly samples: Float32Array[];
  /** The first preview image, the decoded line between the codes of the first two, the second image. */
  readonly interpolation: Float32Array[];
  /** A grid over the latent space, for a 2-d latent; row-major, side × side. */
  readonly manifold: { images: Float32Array[]; side: number } | null;
}

export interface TrainOptions {
  readonly backend?: BackendChoice;
  readonly workers?: number | 'auto';
  /** Stops training after the batches in flight; a checkpoint of that point is emitted first. */
  readonly signal?: AbortSignal;
  /** Goes on from this checkpoint instead of starting afresh. */
  readonly resume?: Checkpoint;
}

/**
 * Trains the pipeline's model and narrates it as events. Each epoch streams the training CSV again through
 * the stages into the worker(s), then the test CSV for the test loss. A model may train in phases (a stacked
 * autoencoder's greedy layers, then fine-tuning); each starts with fresh optimizer state. The `end` event hands
 * over the live trainer so the caller can save the model; the caller closes it.
 */
export function trainingEvents(loaded: LoadedPipeline, options: TrainOptions = {}): Observable<TrainingEvent> {
  return new Observable<TrainingEvent>((subscriber) => {
    let trainer: Trainer | null = null;
    let handedOver = false;
    const run = async () => {
      const { config } = loaded;
      const model = models.get(config.model.type);
      const backend = options.backend ?? config.train.backend;
      const workers = resolveWorkers(options.workers ?? config.train.workers, backend);
      const phases = model.phases(config.model, config.train.epochs);
      trainer = await Trainer.start({
        workers,
        backend,
        init: { model: model.spec(config.model, config.seed), optimizer: config.optimizer, loss: config.loss },
      });
      const t = trainer;
      subscriber.next({
        type: 'start',
        pipeline: loaded.name,
        dataflow: describeDataflow(config, model.describe(config.model), `x${workers} worker${workers === 1 ? '' : 's'}, ${t.backend}`),
        backend: t.backend,
        skipped: t.skipped,
        matMul: t.matMul,
        workers,
        parameters: t.parameters,
        phases,
      });

      const count = config.snapshots.rows * config.snapshots.cols;
      // Copied as they go by: a row's values may be a view into memory its source reuses for the next row.
      const preview = await lastValueFrom(
        splitRows(config, 'test').pipe(rowStages(config, stageContext(config, 'test', 0)), take(count), map(copyRow), toArray()),
      );
      const width = preview[0].x.length;
      const inputs = preview.map((r) => r.x);
      const targets = preview.map((r) => r.target ?? r.x);
      const snapshot = async (epoch: number, phase: string): Promise<Snapshot> => {
        const y = await t.reconstruct(pack(inputs, width), inputs.length, width);
        return { epoch, phase, inputs, targets, reconstructions: unpack(y, width) };
      };

      const epochs = phases.reduce((n, p) => n + p.epochs, 0);
      const resume = options.resume;
      const signal = options.signal;
      const history: EpochRecord[] = resume ? [...(resume.metrics as EpochRecord[])] : [];
      let epoch = 0;
      let knownRows = resume?.knownRows ?? 0;
      let last: Snapshot | null = null;
      const checkpoint = async (phaseIndex: number, phaseEpoch: number, batches: number, sums: Sums) => {
        const partial = sums.totals();
        const state = await t.state();
        subscriber.next({
          type: 'checkpoint',
          checkpoint: {
            version: CHECKPOINT_VERSION,
            epoch: epoch - (batches > 0 ? 1 : 0),
            phase: phaseIndex,
            phaseEpoch,
            batches,
            partial,
            knownRows,
            metrics: [...history],
            state,
            written: new Date().toISOString(),
          },
        });
      };
      for (const [index, phase] of phases.entries()) {
        if (resume && index < resume.phase) {
          epoch += phase.epochs;
          continue;
        }
        if (phases.length > 1 || phase.layer !== null) {
          await t.phase(phase.layer);
          subscriber.next({ type: 'phase', phase, index: index + 1, phases: phases.length });
        }
        const resuming = resume && index === resume.phase ? resume : null;
        if (resuming) {
          await t.restore(resuming.state);
          epoch += resuming.phaseEpoch;
        }
        for (let phaseEpoch = (resuming?.phaseEpoch ?? 0) + 1; phaseEpoch <= phase.epochs; phaseEpoch++) {
          epoch++;
          const started = performance.now();
          const flow = new FlowControl(STEPS_IN_FLIGHT);
          // Until an epoch has counted the rows, estimate them from the bytes per row parsed so far.
          let estimatedRows = 0;
          // A run stopped mid-epoch goes on after the batches it had trained: the epoch's order is seeded.
          const skipBatches = resuming && phaseEpoch === resuming.phaseEpoch + 1 ? resuming.batches : 0;
          const sums = skipBatches > 0 && resuming ? Sums.from(resuming.partial) : new Sums();
          let rows = sums.rows;
          let batches = skipBatches;
          const badTrain = new BadRows();
          await lastValueFrom(
            splitBatches(config, 'train', epoch, {
              flow,
              allocate: t.allocate,
              badRows: badTrain,
              progress: (read, total, parsed) => (estimatedRows = (parsed * total) / read),
            }).pipe(
              skip(skipBatches),
              takeWhile(() => !signal?.aborted),
              mergeMap((batch) => {
                flow.acquire();
                return defer(() => t.step(batch.x, batch.target, batch.rows, batch.cols)).pipe(
                  tap((result) => {
                    if (!Number.isFinite(result.loss)) {
                      throw new AeflowError(
                        'TRAINING_DIVERGED',
                        `the training loss became ${result.loss} at epoch ${epoch}, batch ${batches + 1}`,
                        'lower optimizer.learning_rate (or check the data scaling); the last checkpoint holds the last good state',
                      );
                    }
                    batches++;
                    rows += batch.rows;
                    sums.add(result.loss, result.terms, batch.rows);
                    subscriber.next({
                      type: 'batch',
                      epoch,
                      epochs,
                      phase: phase.name,
                      rows,
                      loss: sums.mean().loss,
                      fraction: rows / (knownRows || estimatedRows || Number.POSITIVE_INFINITY),
                      seconds: (performance.now() - started) / 1000,
                    });
                  }),
                  finalize(() => flow.release()),
                );
              }, STEPS_IN_FLIGHT),
            ),
            { defaultValue: null },
          );
          if (signal?.aborted) {
            await checkpoint(index, phaseEpoch - 1, batches, sums);
            throw new AeflowError(
              'INTERRUPTED',
              `stopped at epoch ${epoch}, after ${batches} batch${batches === 1 ? '' : 'es'} of it; a checkpoint of that point was written`,
              'go on with: npx aeflow run --resume RUN_FOLDER',
            );
          }
          const seconds = (performance.now() - started) / 1000;
          knownRows = rows;
          const test = await evaluate(loaded, t, t.pool.size);
          const isLast = epoch === epochs;
          const endsPhase = phaseEpoch === phase.epochs && phases.length > 1;
          const log = isLast || endsPhase || epoch % config.train.log_every === 0;
          const wantSnapshot = config.snapshots.every > 0 && (isLast || endsPhase || epoch % config.snapshots.every === 0);
          const snap = wantSnapshot ? await snapshot(epoch, phase.name) : null;
          if (snap) last = snap;
          const { numTensors } = await t.memory();
          const train = sums.mean();
          const record: EpochRecord = {
            epoch,
            epochs,
            phase: phase.name,
            phaseEpoch,
            trainLoss: train.loss,
            trainTerms: train.terms,
            testLoss: test.loss,
            testTerms: test.terms,
            noisyInputLoss: test.inputLoss,
            seconds,
            samplesPerS: rows / seconds,
            rows,
            testRows: test.rows,
            tensors: numTensors,
            rssMb: Math.round(process.memoryUsage().rss / 1024 / 1024),
            skipped: config.data.on_bad_row === 'skip' ? { train: badTrain.skipped, test: test.skipped } : null,
            log,
          };
          history.push(record);
          subscriber.next({ type: 'epoch', ...record, snapshot: snap });
          const every = config.checkpoints.every;
          if (every > 0 && (isLast || epoch % every === 0)) await checkpoint(index, phaseEpoch, 0, new Sums());
        }
      }
      const generated = model.generative ? await generate(t, inputs, width, model.codeSize(config.model), config.seed, count) : null;
      handedOver = true;
      subscriber.next({ type: 'end', final: last ?? (await snapshot(epochs, phases[phases.length - 1].name)), generated, trainer: t });
      subscriber.complete();
    };
    run().catch((e) => subscriber.error(e));
    return () => {
      if (!handedOver) void trainer?.close();
    };
  });
}

/** Row-weighted sums of losses and their terms. */
class Sums {
  rows = 0;
  private loss = 0;
  private terms: Record<string, number> = {};

  static from(totals: { rows: number; loss: number; terms: Record<string, number> }): Sums {
    const s = new Sums();
    s.rows = totals.rows;
    s.loss = totals.loss;
    s.terms = { ...totals.terms };
    return s;
  }

  totals(): { rows: number; loss: number; terms: Record<string, number> } {
    return { rows: this.rows, loss: this.loss, terms: { ...this.terms } };
  }

  add(loss: number, terms: Record<string, number>, rows: number): void {
    this.rows += rows;
    this.loss += loss * rows;
    for (const [name, v] of Object.entries(terms)) this.terms[name] = (this.terms[name] ?? 0) + v * rows;
  }

  mean(): { loss: number; terms: Record<string, number>; rows: number } {
    const terms: Record<string, number> = {};
    for (const [name, v] of Object.entries(this.terms)) terms[name] = v / this.rows;
    return { loss: this.loss / this.rows, terms, rows: this.rows };
  }
}

/** Mean loss over the whole test split (weighted by rows), evaluation batches spread over the replicas. */
async function evaluate(
  loaded: LoadedPipeline,
  trainer: Trainer,
  workers: number,
): Promise<{ loss: number; terms: Record<string, number>; rows: number; inputLoss: number | null; skipped: SkippedRows }> {
  const flow = new FlowControl(workers + 1);
  const badRows = new BadRows();
  const { sums, input } = await lastValueFrom(
    splitBatches(loaded.config, 'test', 0, { flow, badRows }).pipe(
      mergeMap((batch) => {
        flow.acquire();
        return defer(() => trainer.evaluate(batch.x, batch.target, batch.rows, batch.cols).then((r) => ({ ...r, rows: batch.rows }))).pipe(
          finalize(() => flow.release()),
        );
      }, workers + 1),
      reduce(
        (acc, r) => {
          acc.sums.add(r.loss, r.terms, r.rows);
          if (r.inputLoss !== null) acc.input.add(r.inputLoss, {}, r.rows);
          return acc;
        },
        { sums: new Sums(), input: new Sums() },
      ),
    ),
  );
  const mean = sums.mean();
  const inputMean = input.mean();
  return { loss: mean.loss, terms: mean.terms, rows: mean.rows, inputLoss: inputMean.rows > 0 ? inputMean.loss : null, skipped: badRows.skipped };
}

/** Samples from the prior, an interpolation between the first two preview images, and a 2-d manifold. */
async function generate(trainer: Trainer, inputs: Float32Array[], width: number, latent: number, seed: number, count: number): Promise<Generated> {
  const decode = async (z: Float32Array) => unpack((await trainer.decode(z, z.length / latent, latent)).y, width);
  const samples = await decode(priorSamples(count, latent, seed));
  const codes = (await trainer.encode(pack(inputs.slice(0, 2), width), Math.min(2, inputs.length), width)).z;
  const ends = [codes.slice(0, latent), codes.slice(latent, 2 * latent)];
  const line = ends[1].length === latent ? await decode(interpolate(ends[0], ends[1], 10)) : [];
  const side = 15;
  const manifold = latent === 2 ? { images: await decode(latentGrid(side)), side } : null;
  return { samples, interpolation: [inputs[0], ...line, ...(inputs[1] ? [inputs[1]] : [])], manifold };
}

function pack(rows: readonly Float32Array[], width: number): Float32Array {
  const packed = new Float32Array(rows.length * width);
  for (const [i, x] of rows.entries()) packed.set(x, i * width);
  return packed;
}

function unpack(y: Float32Array, width: number): Float32Array[] {
  return Array.from({ length: y.length / width }, (_, i) => y.slice(i * width, (i + 1) * width));
}
