import { defer, finalize, lastValueFrom, mergeMap, Observable, reduce, take, tap, toArray } from 'rxjs';
import type { BackendChoice, BackendName } from '../backend.js';
import type { LoadedPipeline } from '../config/load.js';
import { models } from '../models/builtins.js';
import type { Phase } from '../models/layers.js';
import { FlowControl } from '../sources/flowControl.js';
import { Trainer } from '../workers/pool.js';
import { resolveWorkers } from '../workers/workerCount.js';
import { describeDataflow, rowStages, splitBatches, splitRows, stageContext } from './dataflow.js';
import { interpolate, latentGrid, priorSamples } from './generate.js';

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
      phases: Phase[];
    }
  | { type: 'phase'; phase: Phase; index: number; phases: number }
  | { type: 'batch'; epoch: number; epochs: number; phase: string; rows: number; loss: number; fraction: number; seconds: number }
  | EpochEvent
  | { type: 'end'; final: Snapshot; generated: Generated | null; trainer: Trainer };

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
  readonly signal?: AbortSignal;
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
        phases,
      });

      const count = config.snapshots.rows * config.snapshots.cols;
      const preview = await lastValueFrom(splitRows(config, 'test').pipe(rowStages(config, stageContext(config, 'test', 0)), take(count), toArray()));
      const width = preview[0].x.length;
      const inputs = preview.map((r) => r.x);
      const targets = preview.map((r) => r.target ?? r.x);
      const snapshot = async (epoch: number, phase: string): Promise<Snapshot> => {
        const y = await t.reconstruct(pack(inputs, width), inputs.length, width);
        return { epoch, phase, inputs, targets, reconstructions: unpack(y, width) };
      };

      const epochs = phases.reduce((n, p) => n + p.epochs, 0);
      let epoch = 0;
      let knownRows = 0;
      let last: Snapshot | null = null;
      for (const [index, phase] of phases.entries()) {
        if (phases.length > 1 || phase.layer !== null) {
          await t.phase(phase.layer);
          subscriber.next({ type: 'phase', phase, index: index + 1, phases: phases.length });
        }
        for (let phaseEpoch = 1; phaseEpoch <= phase.epochs; phaseEpoch++) {
          epoch++;
          const started = performance.now();
          const flow = new FlowControl(2);
          // Until an epoch has counted the rows, estimate them from the bytes per row parsed so far.
          let estimatedRows = 0;
          let rows = 0;
          const sums = new Sums();
          await lastValueFrom(
            splitBatches(config, 'train', epoch, { flow, progress: (read, total, parsed) => (estimatedRows = (parsed * total) / read) }).pipe(
              mergeMap((batch) => {
                flow.acquire();
                return defer(() => t.step(batch.x, batch.target, batch.rows, batch.cols)).pipe(
                  tap((result) => {
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
              }, 2),
            ),
            { defaultValue: null },
          );
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
          subscriber.next({
            type: 'epoch',
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
            log,
            snapshot: snap,
          });
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
  private rows = 0;
  private loss = 0;
  private readonly terms: Record<string, number> = {};

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
): Promise<{ loss: number; terms: Record<string, number>; rows: number; inputLoss: number | null }> {
  const flow = new FlowControl(workers + 1);
  const { sums, input } = await lastValueFrom(
    splitBatches(loaded.config, 'test', 0, { flow }).pipe(
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
  return { loss: mean.loss, terms: mean.terms, rows: mean.rows, inputLoss: inputMean.rows > 0 ? inputMean.loss : null };
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
