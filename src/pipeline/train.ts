import { defer, finalize, from, lastValueFrom, map, mergeMap, Observable, reduce, skip, take, takeWhile, tap, toArray } from 'rxjs';
import type { BackendChoice } from '../backend.js';
import type { LoadedPipeline } from '../config/load.js';
import { AeflowError } from '../errors.js';
import { CHECKPOINT_VERSION, type Checkpoint } from '../sinks/checkpoint.js';
import { models } from '../models/builtins.js';
import type { Phase } from '../models/layers.js';
import { BadRows, type SkippedRows } from '../sources/badRows.js';
import { FlowControl } from '../sources/flowControl.js';
import { Trainer } from '../workers/trainer.js';
import { resolveWorkers } from '../workers/workerCount.js';
import { dataSource, describeDataflow, type PassOptions, passBatches, rowStages, splitBatches, splitRows, stageContext } from './dataflow.js';
import type { StreamFeed } from './streamFeed.js';
import { isRedisUrl } from '../sources/streamUrl.js';
import type { Batch } from '../rows.js';
import { copyRow } from '../rows.js';
import { learningRate } from '../models/schedule.js';
import { EarlyStopping } from './earlyStopping.js';
import { interpolate, latentGrid, priorSamples } from './generate.js';
import { objectiveOf } from './objective.js';
import { phaseStarts, type ResumePoint, resumePoint } from './resume.js';
import { Sums, type Totals } from './sums.js';
import type { StartTrainer, TrainerPort } from './trainerPort.js';
import type { EpochRecord, Generated, Snapshot, TrainingEvent as TrainingEventOf } from '../types.js';

export type { EpochEvent, EpochRecord, Generated, Snapshot } from '../types.js';
/** What a training run tells its side branches, the trainer handed over at the end. */
export type TrainingEvent = TrainingEventOf<TrainerPort>;

export type { StartTrainer, TrainerPort } from './trainerPort.js';

/**
 * Batches sent to the workers and not yet trained on. Each worker queues them (pool.ts), so it goes from one
 * step to the next without waiting for the main thread, which can pause (garbage collection, reading) for
 * longer than a step; with 2, the workers waited on a third of the steps. A batch is ~0.8 MB.
 */
const STEPS_IN_FLIGHT = 4;

export interface TrainOptions {
  readonly backend?: BackendChoice;
  readonly workers?: number | 'auto';
  /** Stops training after the batches in flight; a checkpoint of that point is emitted first. */
  readonly signal?: AbortSignal;
  /** Goes on from this checkpoint instead of starting afresh. */
  readonly resume?: Checkpoint;
  /** How the trainer starts: the worker threads' `Trainer` unless a test passes a fake. */
  readonly startTrainer?: StartTrainer;
  /** Test rows the snapshots reconstruct (a table's per-column errors want more); snapshots.rows × cols by default. */
  readonly previewRows?: number;
  /** The Redis stream the training rows come from, when data.train is one (see StreamFeed); files otherwise. */
  readonly feed?: StreamFeed | null;
}

/** Where a checkpoint stands: the phase, the epochs done in it and over the run, the batches of the next one. */
interface Position {
  readonly phase: number;
  readonly phaseEpoch: number;
  readonly completed: number;
  readonly batches: number;
}

interface TrainingPass {
  readonly sums: Sums;
  /** Batches of the epoch trained, the skipped ones of a resumed epoch included. */
  readonly batches: number;
  readonly seconds: number;
  readonly badRows: BadRows;
  /** Whether a stop cut the pass short (a batch was left untrained). */
  readonly cut: boolean;
  /** The learning rate of the pass's last step (of the resumed point's, when it trained none). */
  readonly lr: number;
}

interface TestPass {
  readonly loss: number;
  readonly terms: Record<string, number>;
  readonly rows: number;
  readonly inputLoss: number | null;
  readonly skipped: SkippedRows;
}

/** The first rows×cols test rows through the stages: what snapshots reconstruct. */
interface Preview {
  readonly inputs: Float32Array[];
  readonly targets: Float32Array[];
  readonly width: number;
}

/**
 * Trains a pipeline's model and narrates it as events. Each epoch streams the training CSV again through the
 * stages into the worker(s), then the test CSV for the test loss. A model may train in phases (a stacked
 * autoencoder's greedy layers, then fine-tuning); each starts with fresh optimizer state. `start` starts the
 * trainer, so a caller learns that the backend runs before it makes anything; `events` then runs the training.
 * The `end` event hands over the live trainer so the caller can save the model; the caller closes it.
 */
export class TrainingRun {
  private emit: (e: TrainingEvent) => void = () => undefined;
  private handedOver = false;
  private closing: Promise<void> | null = null;
  private readonly history: EpochRecord[];
  private knownRows: number;
  private last: Snapshot | null = null;
  private preview: Preview = { inputs: [], targets: [], width: 0 };
  /** Global epochs completed before each phase. */
  private readonly starts: number[];
  private readonly epochs: number;
  /** Optimizer steps of the current phase before the epoch in progress: where its schedule stands. */
  private phaseSteps = 0;
  /** Early stopping's bookkeeping, which watches the last phase; null without `train.early_stopping`. */
  private stopping: EarlyStopping | null = null;
  /** The best epoch's weights under early stopping: what the saved model gets. */
  private best: { epoch: number; weights: Float32Array[] } | null;

  private constructor(
    private readonly loaded: LoadedPipeline,
    readonly trainer: TrainerPort,
    readonly workers: number,
    private readonly phases: readonly Phase[],
    private readonly at: ResumePoint,
    private readonly signal: AbortSignal | undefined,
    private readonly previewRows: number | undefined,
    private readonly feed: StreamFeed | null,
  ) {
    this.history = [...at.history];
    // A stream's epoch is its rows_per_epoch entries (fewer rows when some are skipped).
    this.knownRows = at.knownRows || (feed?.rowsPerEpoch ?? 0);
    if (feed && at.stream) feed.seek(at.stream);
    this.starts = phaseStarts(phases);
    this.epochs = phases.reduce((n, p) => n + p.epochs, 0);
    this.best = at.best;
  }

  /** Starts the trainer (BACKEND_UNAVAILABLE and a checkpoint that does not fit the pipeline end here). */
  static async start(loaded: LoadedPipeline, options: TrainOptions = {}): Promise<TrainingRun> {
    const { config } = loaded;
    // The feed keeps the stream's place across epochs (and its connection): runPipeline opens it.
    if (isRedisUrl(config.data.train) && !options.feed) throw new Error('TrainingRun.start: data.train is a Redis stream; pass options.feed (a StreamFeed)');
    const model = models.get(config.model.type);
    const backend = options.backend ?? config.train.backend;
    const workers = resolveWorkers(options.workers ?? config.train.workers, backend);
    const phases = model.phases(config.model, config.train.epochs);
    const at = resumePoint(options.resume, phases);
    const start: StartTrainer = options.startTrainer ?? ((o) => Trainer.start(o));
    const optimizer = { ...config.optimizer, weight_decay: config.train.weight_decay };
    const trainer = await start({ workers, backend, init: { model: model.spec(config.model, config.seed), optimizer, loss: config.loss } });
    return new TrainingRun(loaded, trainer, workers, phases, at, options.signal, options.previewRows, options.feed ?? null);
  }

  /** The run as events, once: subscribing trains; unsubscribing before `end` closes the trainer. */
  events(): Observable<TrainingEvent> {
    return new Observable<TrainingEvent>((subscriber) => {
      this.emit = (e) => subscriber.next(e);
      this.train().then(
        () => subscriber.complete(),
        (e) => subscriber.error(e),
      );
      return () => void this.close();
    });
  }

  /** Stops the trainer's threads, unless the `end` event handed the trainer over. */
  close(): Promise<void> {
    if (this.handedOver) return Promise.resolve();
    this.closing ??= this.trainer.close();
    return this.closing;
  }

  private async train(): Promise<void> {
    this.emit(this.startEvent());
    this.preview = await this.readPreview();
    for (const [index, phase] of this.phases.entries()) {
      if (index >= this.at.phase) await this.phase(index, phase);
    }
    const { config } = this.loaded;
    const model = models.get(config.model.type);
    const restored = await this.restoreBest();
    const { inputs, width } = this.preview;
    const count = config.snapshots.rows * config.snapshots.cols;
    const generated = model.generative ? await generate(this.trainer, inputs, width, model.codeSize(config.model), config.seed, count) : null;
    const lastPhase = this.phases[this.phases.length - 1].name;
    const final = restored ? await this.snapshot(restored, lastPhase) : (this.last ?? (await this.snapshot(this.epochs, lastPhase)));
    this.handedOver = true;
    this.emit({ type: 'end', final, generated, trainer: this.trainer });
  }

  /**
   * Under early stopping, puts the best epoch's weights back (unless the last epoch was the best) so that the saved
   * model is the best one; returns that epoch, or null when the weights stay as they are.
   */
  private async restoreBest(): Promise<number | null> {
    const lastEpoch = this.history[this.history.length - 1]?.epoch;
    if (!this.best || this.best.epoch === lastEpoch) return null;
    const now = await this.trainer.state();
    await this.trainer.restore({ ...now, weights: this.best.weights });
    return this.best.epoch;
  }

  private startEvent(): TrainingEvent {
    const { config } = this.loaded;
    const t = this.trainer;
    const w = this.workers;
    return {
      type: 'start',
      pipeline: this.loaded.name,
      dataflow: describeDataflow(this.loaded, models.get(config.model.type).describe(config.model), `x${w} worker${w === 1 ? '' : 's'}, ${t.backend}`),
      backend: t.backend,
      skipped: t.skipped,
      matMul: t.matMul,
      workers: w,
      parameters: t.parameters,
      phases: [...this.phases],
      objective: objectiveOf(config, this.phases[this.phases.length - 1]),
    };
  }

  private async readPreview(): Promise<Preview> {
    const { config } = this.loaded;
    const count = this.previewRows ?? config.snapshots.rows * config.snapshots.cols;
    // Copied as they go by: a row's values may be a view into memory its source reuses for the next row.
    const preview = await lastValueFrom(
      splitRows(this.loaded, 'test').pipe(rowStages(config, stageContext(this.loaded, 'test', 0)), take(count), map(copyRow), toArray()),
    );
    return { inputs: preview.map((r) => r.x), targets: preview.map((r) => r.target ?? r.x), width: preview[0].x.length };
  }

  private async snapshot(epoch: number, phase: string): Promise<Snapshot> {
    const { inputs, targets, width } = this.preview;
    const y = await this.trainer.reconstruct(pack(inputs, width), inputs.length, width);
    return { epoch, phase, inputs, targets, reconstructions: unpack(y, width) };
  }

  /** One phase: fresh optimizer state (and the checkpoint's state in the phase a resumed run goes on in), then its epochs. */
  private async phase(index: number, phase: Phase): Promise<void> {
    if (this.phases.length > 1 || phase.layer !== null) {
      await this.trainer.phase(phase.layer);
      this.emit({ type: 'phase', phase, index: index + 1, phases: this.phases.length, objective: objectiveOf(this.loaded.config, phase) });
    }
    const resumes = index === this.at.phase;
    if (resumes && this.at.state) await this.trainer.restore(this.at.state);
    const first = resumes ? this.at.phaseEpoch + 1 : 1;
    const done = this.history.filter((e) => e.phase === phase.name && e.phaseEpoch < first);
    // The schedule goes on from the steps the phase had taken (0 for a fresh phase, and in old checkpoints).
    this.phaseSteps = done.at(-1)?.steps ?? 0;
    const spec = this.loaded.config.train.early_stopping;
    const watched = spec !== undefined && index === this.phases.length - 1;
    // A resumed run replays its verdicts; without the best weights in the checkpoint it can only start afresh.
    this.stopping = watched ? EarlyStopping.replay(spec, this.best ? done : []) : null;
    for (let phaseEpoch = first; phaseEpoch <= phase.epochs && !this.stopping?.stopped; phaseEpoch++) {
      // A run stopped mid-epoch goes on after the batches it had trained: the epoch's order is seeded.
      const skipped = resumes && phaseEpoch === first ? this.at : null;
      await this.epoch(index, phase, phaseEpoch, skipped?.skipBatches ?? 0, skipped?.partial ?? null);
    }
  }

  /** One epoch: the training pass, the test pass, a snapshot and a checkpoint when due; a stop ends the run here. */
  private async epoch(index: number, phase: Phase, phaseEpoch: number, skipBatches: number, partial: Totals | null): Promise<void> {
    const epoch = this.starts[index] + phaseEpoch;
    const { config } = this.loaded;
    const rate = (batch: number) =>
      learningRate(config.train.schedule, config.optimizer.learning_rate, { step: this.phaseSteps + batch, epoch: phaseEpoch, epochs: phase.epochs });
    const pass = await this.trainingPass(epoch, phase.name, skipBatches, partial, rate);
    if (pass.cut) await this.stop({ phase: index, phaseEpoch: phaseEpoch - 1, completed: epoch - 1, batches: pass.batches }, pass.sums);
    // Consumed once trained whole: a checkpoint from here on records that the next epoch starts after its entries.
    this.feed?.commit();
    this.phaseSteps += pass.batches;
    this.knownRows = pass.sums.rows;
    const test = await this.testPass();
    const verdict = this.stopping?.observe(epoch, test.loss);
    if (verdict === 'better') this.best = { epoch, weights: (await this.trainer.state()).weights };
    // An epoch early stopping ends on is the run's last: logged, pictured and checkpointed as such.
    const isLast = epoch === this.epochs || verdict === 'stop';
    const endsPhase = phaseEpoch === phase.epochs && this.phases.length > 1;
    const log = isLast || endsPhase || epoch % config.train.log_every === 0;
    const wantSnapshot = config.snapshots.every > 0 && (isLast || endsPhase || epoch % config.snapshots.every === 0);
    const snapshot = wantSnapshot ? await this.snapshot(epoch, phase.name) : null;
    if (snapshot) this.last = snapshot;
    const { numTensors } = await this.trainer.memory();
    const train = pass.sums.mean();
    const record: EpochRecord = {
      epoch,
      epochs: this.epochs,
      phase: phase.name,
      phaseEpoch,
      trainLoss: train.loss,
      trainTerms: train.terms,
      testLoss: test.loss,
      testTerms: test.terms,
      noisyInputLoss: test.inputLoss,
      seconds: pass.seconds,
      samplesPerS: train.rows / pass.seconds,
      rows: train.rows,
      testRows: test.rows,
      tensors: numTensors,
      rssMb: Math.round(process.memoryUsage().rss / 1024 / 1024),
      skipped: config.data.on_bad_row === 'skip' || config.data.missing === 'skip' ? { train: pass.badRows.skipped, test: test.skipped } : null,
      lr: pass.lr,
      steps: this.phaseSteps,
      earlyStopping: this.stopping?.status() ?? null,
      log,
    };
    this.history.push(record);
    this.emit({ type: 'epoch', ...record, snapshot });
    const end: Position = { phase: index, phaseEpoch, completed: epoch, batches: 0 };
    const every = config.checkpoints.every;
    const due = every > 0 && (isLast || epoch % every === 0);
    if (due) await this.checkpoint(end, new Sums());
    // A stop that came after the epoch's last batch lets the epoch finish: it ends at a whole epoch.
    if (this.signal?.aborted) await this.stop(end, new Sums(), due);
  }

  /** The epoch's training batches through the trainer, at most STEPS_IN_FLIGHT at a time, until a stop. */
  private async trainingPass(
    epoch: number,
    phase: string,
    skipBatches: number,
    partial: Totals | null,
    rate: (batch: number) => number,
  ): Promise<TrainingPass> {
    const t = this.trainer;
    const started = performance.now();
    const flow = new FlowControl(STEPS_IN_FLIGHT);
    // Until an epoch has counted the rows, estimate them from the bytes per row parsed so far.
    let estimatedRows = 0;
    const sums = partial ? Sums.from(partial) : new Sums();
    let batches = skipBatches;
    // Batches handed to the trainer, in order: the next one's index in the epoch, for its learning rate.
    let sent = skipBatches;
    let lr = rate(Math.max(0, skipBatches - 1));
    let cut = false;
    const badRows = new BadRows();
    await lastValueFrom(
      this.trainingBatches(epoch, {
        flow,
        allocate: t.allocate,
        badRows,
        progress: (read, total, parsed) => (estimatedRows = (parsed * total) / read),
      }).pipe(
        skip(skipBatches),
        takeWhile(() => {
          cut ||= this.signal?.aborted === true;
          return !cut;
        }),
        mergeMap((batch) => {
          flow.acquire();
          lr = rate(sent++);
          const stepRate = lr;
          return defer(() => t.step(batch.x, batch.target, batch.rows, batch.cols, stepRate)).pipe(
            tap((result) => {
              if (!Number.isFinite(result.loss)) throw diverged(result.loss, epoch, batches + 1);
              batches++;
              sums.add(result.loss, result.terms, batch.rows);
              this.emit({
                type: 'batch',
                epoch,
                epochs: this.epochs,
                phase,
                rows: sums.rows,
                loss: sums.mean().loss,
                fraction: sums.rows / (this.knownRows || estimatedRows || Number.POSITIVE_INFINITY),
                seconds: (performance.now() - started) / 1000,
              });
            }),
            finalize(() => flow.release()),
          );
        }, STEPS_IN_FLIGHT),
      ),
      { defaultValue: null },
    );
    // A stream's rows end early when a stop comes while the feed waits for entries: the epoch is cut there too.
    if (this.feed && !this.feed.epochRead) cut = true;
    return { sums, batches, seconds: (performance.now() - started) / 1000, badRows, cut, lr };
  }

  /** The epoch's training batches: the training CSV's rows, or the stream's next rows_per_epoch entries. */
  private trainingBatches(epoch: number, options: PassOptions): Observable<Batch> {
    if (!this.feed) return splitBatches(this.loaded, 'train', epoch, options);
    const source = dataSource(this.loaded.config, 'train', this.loaded.preprocessing);
    const rows$ = this.feed.epochRows(source, { badRows: options.badRows, flow: options.flow, signal: this.signal });
    return rows$.pipe(passBatches(this.loaded, 'train', epoch, options.allocate));
  }

  /** Mean loss over the whole test split (weighted by rows), evaluation batches spread over the replicas. */
  private async testPass(): Promise<TestPass> {
    const flow = new FlowControl(this.workers + 1);
    const badRows = new BadRows();
    const { sums, input } = await lastValueFrom(
      splitBatches(this.loaded, 'test', 0, { flow, badRows }).pipe(
        mergeMap((batch) => {
          flow.acquire();
          return defer(() => this.trainer.evaluate(batch.x, batch.target, batch.rows, batch.cols).then((r) => ({ ...r, rows: batch.rows }))).pipe(
            finalize(() => flow.release()),
          );
        }, this.workers + 1),
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

  /** Emits a checkpoint of the trainer's state at `at`, with the sums of the batches trained past it. */
  private async checkpoint(at: Position, sums: Sums): Promise<void> {
    const partial = sums.totals();
    const state = await this.trainer.state();
    this.emit({
      type: 'checkpoint',
      checkpoint: {
        version: CHECKPOINT_VERSION,
        epoch: at.completed,
        phase: at.phase,
        phaseEpoch: at.phaseEpoch,
        batches: at.batches,
        partial,
        knownRows: this.knownRows,
        metrics: [...this.history],
        state,
        ...(this.best ? { best: this.best } : {}),
        ...(this.feed ? { stream: this.feed.at } : {}),
        written: new Date().toISOString(),
      },
    });
  }

  /** Ends a stopped run: a checkpoint of where it stands (unless one was just written), then INTERRUPTED. */
  private async stop(at: Position, sums: Sums, checkpointed = false): Promise<never> {
    if (!checkpointed) await this.checkpoint(at, sums);
    const where =
      at.batches > 0
        ? `stopped at epoch ${at.completed + 1}, after ${at.batches} batch${at.batches === 1 ? '' : 'es'} of it`
        : at.completed > 0
          ? `stopped after epoch ${at.completed}`
          : 'stopped before the first epoch';
    throw new AeflowError('INTERRUPTED', `${where}; a checkpoint of that point was written`, 'go on with: npx aeflow run --resume RUN_FOLDER');
  }
}

/**
 * The training run as one stream of events: starts the trainer when subscribed, then trains (see TrainingRun).
 * The `end` event hands over the live trainer so the caller can save the model; the caller closes it.
 */
export function trainingEvents(loaded: LoadedPipeline, options: TrainOptions = {}): Observable<TrainingEvent> {
  return defer(() => from(TrainingRun.start(loaded, options))).pipe(mergeMap((run) => run.events()));
}

function diverged(loss: number, epoch: number, batch: number): AeflowError {
  return new AeflowError(
    'TRAINING_DIVERGED',
    `the training loss became ${loss} at epoch ${epoch}, batch ${batch}`,
    'lower optimizer.learning_rate (or check the data scaling); the last checkpoint holds the last good state',
  );
}

/** Samples from the prior, an interpolation between the first two preview images, and a 2-d manifold. */
async function generate(trainer: TrainerPort, inputs: Float32Array[], width: number, latent: number, seed: number, count: number): Promise<Generated> {
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
