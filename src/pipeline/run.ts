import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { connectable, filter, lastValueFrom, Subject } from 'rxjs';
import type { LoadedPipeline } from '../config/load.js';
import { checkAgainstData } from '../config/load.js';
import { consoleSink } from '../sinks/consoleLog.js';
import { writePng } from '../sinks/imageGrid.js';
import { MetricsFile } from '../sinks/metricsFile.js';
import { ProgressBar } from '../sinks/progressBar.js';
import { writeComparison, writeSnapshot } from '../sinks/snapshotFiles.js';
import { generatedImages } from '../sinks/snapshots.js';
import { AeflowError } from '../errors.js';
import type { BackendChoice } from '../backend.js';
import { CheckpointWriter } from '../sinks/checkpoint.js';
import { writeReport } from '../sinks/report.js';
import type { InferenceRequests } from '../workers/inferenceProtocol.js';
import type { WorkerThreads } from '../workers/threads.js';
import { needsPreprocessing } from '../config/columns.js';
import { Inference } from '../workers/inference.js';
import { type DataSource, dataSource } from './dataflow.js';
import type { StreamFeed } from './streamFeed.js';
import { isRedisUrl } from '../sources/streamUrl.js';
import { PREPROCESSING_FILE, writeAnomalyThreshold } from './modelData.js';
import { prepareData, writePreprocessing } from './prepare.js';
import { type RowView, rowView, TABLE_PREVIEW_ROWS } from './rowView.js';
import { fitThreshold } from './threshold.js';
import { type EvaluationResult, evaluateModel } from './evaluate.js';
import { formatLoss } from './objective.js';
import { buildSummary, type StartEvent, type Summary } from './summary.js';
import { type EpochEvent, type EpochRecord, type TrainingEvent, TrainingRun, type TrainOptions } from './train.js';

export type { Summary } from './summary.js';

export interface RunOptions extends TrainOptions {
  /** The run folder (chosen, see sinks/runFolder.ts; made here once training starts). */
  readonly out: string;
  /** Where epoch lines and the summary go. */
  readonly log?: (line: string) => void;
  readonly progress?: ProgressBar;
}

type End = Extract<TrainingEvent, { type: 'end' }>;

/** The run folder as training writes it. */
interface RunFolder {
  readonly out: string;
  readonly snapshots: string;
  readonly pipelineFile: string;
  readonly metrics: MetricsFile;
  /** A resumed run's epochs before its checkpoint. */
  readonly previous: EpochRecord[];
}

/** What training leaves for the outputs: the handed-over trainer, the start event, every epoch's record. */
interface Trained {
  readonly end: End;
  readonly start: StartEvent;
  readonly epochs: EpochRecord[];
  readonly checkpoints: CheckpointWriter;
}

/**
 * Runs a pipeline end to end: checks it against its data, trains, and writes the run folder: metrics.jsonl,
 * snapshots/, comparison.png, model/, pipeline.yaml and summary.json (and a generative model's samples), then
 * evaluates the model and writes report.html. Side branches (console and progress bar, metrics, snapshots) each
 * subscribe to the one stream of training events and only write.
 */
export async function runPipeline(pipeline: LoadedPipeline, options: RunOptions): Promise<Summary> {
  const started = performance.now();
  const log = options.log ?? ((line: string) => console.log(line));
  await checkAgainstData(pipeline);
  // A Redis stream as the training split: connected before anything starts (REDIS_UNAVAILABLE ends it here), closed on every way out.
  // Loaded only for a stream: the Redis client costs every other run a tenth of a second at start.
  const feed = isRedisUrl(pipeline.config.data.train) ? await (await import('./streamFeed.js')).StreamFeed.open(pipeline.config, log) : null;
  try {
    return await trainAndWrite(pipeline, { ...options, log, feed }, started);
  } finally {
    feed?.close();
  }
}

/** runPipeline once the data is checked and the stream (if any) connected. */
async function trainAndWrite(pipeline: LoadedPipeline, options: RunOptions & { log: (line: string) => void }, started: number): Promise<Summary> {
  let loaded = pipeline;
  const elapsed = () => (performance.now() - started) / 1000;
  const { log } = options;
  const progress = options.progress ?? new ProgressBar();
  const { config } = loaded;
  loaded = await prepare(loaded, options, log, progress);
  // The fitted feature count (one-hot categories, indicators) against a first layer given as a number.
  if (loaded.preprocessing) await checkAgainstData(loaded);
  const view = await rowView(loaded);
  if ('table' in view) options = { ...options, previewRows: TABLE_PREVIEW_ROWS };
  // The folder appears only once the run is sure to start: the data fits and the trainer runs.
  const run = await TrainingRun.start(loaded, options);
  let folder: RunFolder;
  try {
    folder = openRunFolder(loaded, options);
  } catch (e) {
    await run.close();
    throw e;
  }
  const trained = await train(loaded, view, run, folder, log, progress);
  const { outputs, threads } = await saveOutputs(loaded, view, folder, trained);
  const summaryFile = path.join(folder.out, 'summary.json');
  let summary: Summary;
  const write = () => writeFileSync(summaryFile, JSON.stringify(summary, null, 2) + '\n');
  try {
    summary = buildSummary(trained.epochs, trained.start, {
      model: config.model.type,
      outputs: { ...outputs, summary: summaryFile },
      toSavedModelS: elapsed(),
      wallS: elapsed(),
      peakRssMb: Math.round(process.resourceUsage().maxRSS / 1024),
      finishedAt: new Date().toISOString(),
      minDelta: config.train.early_stopping?.min_delta,
    });
    // Written before the report, which reads it, and again at the end with the whole run's time.
    write();
  } catch (e) {
    await threads?.close();
    throw e;
  }
  let wall = elapsed();
  const evaluates = config.outputs.report && config.outputs.evaluate;
  const split = threads ? await trainingSplit(loaded, options.feed ?? null, log).catch((e) => threads.close().then(() => Promise.reject(e))) : null;
  const evaluation = threads && split && evaluates ? await evaluate(loaded, split, folder.out, summary, threads, log, progress) : null;
  if (outputs.model && split) await saveThreshold(loaded, split, outputs.model, evaluation, threads && !evaluates ? threads : undefined, summary, progress);
  if (config.outputs.report) await writeReport(folder.out, evaluation, { wallSeconds: () => (wall = elapsed()) });
  summary.wall_s = Math.round(wall * 100) / 100;
  summary.finished_at = new Date().toISOString();
  write();
  logDone(loaded, folder, summary, outputs, log);
  return summary;
}

/** Makes the run folder and starts its files: pipeline.yaml (a fresh run's), metrics.jsonl, snapshots/. */
function openRunFolder(loaded: LoadedPipeline, options: RunOptions): RunFolder {
  const out = options.out;
  mkdirSync(out, { recursive: true });
  const snapshots = path.join(out, 'snapshots');
  mkdirSync(snapshots, { recursive: true });
  const pipelineFile = path.join(out, 'pipeline.yaml');
  const resume = options.resume;
  // A resumed run keeps its pipeline.yaml, and its metrics up to the checkpoint (later lines died with the crash).
  if (!resume) writeFileSync(pipelineFile, `# ${loaded.file}, resolved (defaults filled in, --set applied)\n${loaded.resolvedYaml()}`);
  // Kept beside the checkpoint: a resumed run reads its rows through the same fitted preprocessing.
  if (loaded.preprocessing && !resume) writeFileSync(path.join(out, PREPROCESSING_FILE), JSON.stringify(loaded.preprocessing.json, null, 2) + '\n');
  const metrics = new MetricsFile(path.join(out, 'metrics.jsonl'));
  const previous = (resume?.metrics ?? []) as EpochRecord[];
  for (const e of previous) metrics.append(e);
  return { out, snapshots, pipelineFile, metrics, previous };
}

/** Trains, with the side branches subscribed to the events first; resolves at the `end` event. */
async function train(
  loaded: LoadedPipeline,
  view: RowView,
  run: TrainingRun,
  folder: RunFolder,
  log: (line: string) => void,
  progress: ProgressBar,
): Promise<Trained> {
  const grid = loaded.config.snapshots;
  // Connected once every branch listens: the start event comes as soon as the run is subscribed.
  const events$ = connectable(run.events(), { connector: () => new Subject<TrainingEvent>(), resetOnDisconnect: false });
  const checkpoints = new CheckpointWriter(folder.out);
  const epochs: EpochRecord[] = [...folder.previous];
  let start: StartEvent | null = null;
  // A failure is reported once, by the awaited stream below; the side branches ignore it.
  const onError = { error: () => progress.clear() };
  const epochs$ = events$.pipe(filter((e): e is EpochEvent => e.type === 'epoch'));
  events$.subscribe({ next: consoleSink(log, progress), ...onError });
  events$.pipe(filter((e): e is StartEvent => e.type === 'start')).subscribe({ next: (e) => (start = e), ...onError });
  epochs$.subscribe({
    next: (e) => {
      epochs.push(e);
      folder.metrics.append(e);
    },
    ...onError,
  });
  events$.pipe(filter((e): e is Extract<TrainingEvent, { type: 'checkpoint' }> => e.type === 'checkpoint')).subscribe({
    next: (e) => checkpoints.write(e.checkpoint),
    ...onError,
  });
  epochs$.pipe(filter((e) => e.snapshot !== null)).subscribe({
    next: (e) => writeSnapshot(view, folder.snapshots, e.snapshot!, grid),
    ...onError,
  });
  const ended = lastValueFrom(events$.pipe(filter((e): e is End => e.type === 'end')));
  events$.connect();
  try {
    const end = await ended;
    const s = start as StartEvent | null;
    if (!s) throw new Error('the training events ended without a start event');
    return { end, start: s, epochs, checkpoints };
  } catch (e) {
    // The checkpoint a stop wrote (or the last epoch's) is on disk before the run says where to go on from.
    await checkpoints.settled().catch(() => undefined);
    if (e instanceof AeflowError && e.code === 'INTERRUPTED') {
      throw new AeflowError('INTERRUPTED', e.message, `go on with: npx aeflow run --resume ${path.relative(process.cwd(), folder.out) || '.'}`);
    }
    throw e;
  }
}

/**
 * comparison.png, a generative model's pictures, model/ (with preprocessing.json); then hands the trainer's
 * threads on to what loads the saved model (evaluation, anomaly threshold) when there is one, else closes them
 * (on every failure too).
 */
async function saveOutputs(
  loaded: LoadedPipeline,
  view: RowView,
  folder: RunFolder,
  { end, checkpoints }: Trained,
): Promise<{ outputs: Record<string, string>; threads: WorkerThreads<InferenceRequests> | undefined }> {
  const { config } = loaded;
  const { out } = folder;
  const outputs: Record<string, string> = { metrics: folder.metrics.file, snapshots: folder.snapshots, pipeline: folder.pipelineFile };
  let threads: WorkerThreads<InferenceRequests> | undefined;
  try {
    const comparison = writeComparison(view, out, end.final);
    outputs[comparison.name] = comparison.file;
    // A generative model's samples are pictures only when its rows are.
    if (end.generated && 'image' in view) {
      for (const [name, image] of Object.entries(generatedImages(end.generated, view.image, config.snapshots.rows, config.snapshots.cols))) {
        outputs[name.replace('.png', '')] = path.join(out, name);
        writePng(path.join(out, name), image);
      }
    }
    if (config.outputs.save_model) {
      outputs.model = path.join(out, 'model');
      await end.trainer.save(outputs.model);
      if (loaded.preprocessing) await writePreprocessing(outputs.model, loaded.preprocessing);
    }
    // Last, so a checkpoint that could not be written costs nothing else.
    await checkpoints.settled();
    // The evaluation and the anomaly threshold load the saved model in the threads that trained it (TensorFlow.js
    // loaded, memory grown).
    if (config.outputs.save_model) threads = await end.trainer.handOver();
  } finally {
    if (!threads) await end.trainer.close();
  }
  return { outputs, threads };
}

/** The evaluation for the report, in the trainer's threads (which it closes), with its line on the console. */
async function evaluate(
  loaded: LoadedPipeline,
  train: DataSource,
  out: string,
  summary: Summary,
  threads: WorkerThreads<InferenceRequests>,
  log: (line: string) => void,
  progress: ProgressBar,
): Promise<EvaluationResult> {
  const { config } = loaded;
  log('evaluating the model for the report: PCA baseline, probes, anomaly scores (outputs.evaluate: false skips this)…');
  const evaluation = await evaluateModel({
    model: path.join(out, 'model'),
    train,
    test: dataSource(config, 'test', loaded.preprocessing),
    out,
    percentile: config.anomaly.percentile,
    testRows: config.evaluate.test_rows,
    seed: config.seed,
    backend: summary.backend as BackendChoice,
    workers: summary.workers,
    threads,
    probes: config.evaluate.probes,
    progress: (stage) => progress.update({ label: `evaluation: ${stage.name}`, fraction: stage.fraction, rows: stage.rows }),
  }).finally(() => progress.clear());
  const e = evaluation.evaluation;
  log(
    `evaluation: model ${formatLoss(e.model_test_loss)} vs PCA-${e.pca_components} ${formatLoss(e.pca_test_loss)} (${e.model_test_loss_is})` +
      (e.probes
        ? `; probes (logistic / ${e.probes.k}-NN): codes ${e.probes.model.logistic.toFixed(3)} / ${e.probes.model.knn.toFixed(3)}, PCA ${e.probes.pca.logistic.toFixed(3)} / ${e.probes.pca.knn.toFixed(3)}`
        : ''),
  );
  return evaluation;
}

/**
 * The training split as the evaluation and the anomaly threshold read it after training: the training CSV, or, from
 * a Redis stream, the last epoch's entries (read again, held in memory), since the stream is not read from its start.
 */
async function trainingSplit(loaded: LoadedPipeline, feed: StreamFeed | null, log: (line: string) => void): Promise<DataSource> {
  const source = dataSource(loaded.config, 'train', loaded.preprocessing);
  if (!feed) return source;
  log(`the evaluation and the anomaly threshold read the last epoch's ${feed.rowsPerEpoch} entries of ${feed.address.text} as the training split`);
  return feed.lastEpochSource(source);
}

/** A tabular pipeline's statistics pass (or its run folder's preprocessing, on resume), and an auto input's width. */
async function prepare(loaded: LoadedPipeline, options: RunOptions, log: (line: string) => void, progress: ProgressBar): Promise<LoadedPipeline> {
  const fits = needsPreprocessing(loaded.config) && !(options.resume && existsSync(path.join(options.out, PREPROCESSING_FILE)));
  const feed = options.feed ?? null;
  const what = feed
    ? `the first ${feed.rowsPerEpoch} entries of ${feed.address.text} (read, not consumed)`
    : `${path.relative(process.cwd(), loaded.config.data.train)} (one pass over the training split)`;
  if (fits) log(`fitting the preprocessing on ${what}…`);
  const prepared = await prepareData(loaded, {
    feed,
    signal: options.signal,
    resumeFolder: options.resume ? options.out : null,
    progress: fits ? (read, total, rows) => progress.update({ label: 'preprocessing: statistics', fraction: read / total, rows }) : undefined,
  }).finally(() => progress.clear());
  const p = prepared.preprocessing;
  if (p && fits) log(`preprocessing: ${p.json.columns.length} columns -> ${p.width} features (${p.json.normalize}, missing ${p.json.missing})`);
  return prepared;
}

/**
 * model/anomaly.json, the threshold `score` and `serve` flag rows above: the evaluation's, or from a pass of its
 * own in the trainer's threads (which it closes) when the run does not evaluate.
 */
async function saveThreshold(
  loaded: LoadedPipeline,
  train: DataSource,
  model: string,
  evaluation: EvaluationResult | null,
  threads: WorkerThreads<InferenceRequests> | undefined,
  summary: Summary,
  progress: ProgressBar,
): Promise<void> {
  const { config } = loaded;
  if (evaluation) {
    const { anomaly, train_rows } = evaluation.evaluation;
    await writeAnomalyThreshold(model, {
      percentile: anomaly.percentile,
      threshold: anomaly.threshold,
      relative_accuracy: anomaly.relative_accuracy,
      training_rows: train_rows,
    });
    return;
  }
  if (!threads) return;
  const inference = await Inference.start({ model, backend: summary.backend as BackendChoice, workers: summary.workers, threads });
  try {
    const threshold = await fitThreshold(inference, train, config.anomaly.percentile, {
      progress: (stage) => progress.update({ label: stage.name, fraction: stage.fraction, rows: stage.rows }),
    });
    await writeAnomalyThreshold(model, threshold);
  } finally {
    progress.clear();
    await inference.close();
  }
}

function logDone(loaded: LoadedPipeline, folder: RunFolder, summary: Summary, outputs: Record<string, string>, log: (line: string) => void): void {
  const { config } = loaded;
  const { out, snapshots } = folder;
  log(
    `done: test loss ${formatLoss(summary.test_loss)}, train loss ${formatLoss(summary.train_loss)} (${summary.objective}) after ${summary.epochs} epoch${summary.epochs === 1 ? '' : 's'}` +
      `${summary.noisy_input_loss === undefined ? '' : ` (the noisy input itself scores ${formatLoss(summary.noisy_input_loss)})`}; ` +
      `${summary.samples_per_s.toLocaleString('en-US')} samples/s on ${summary.backend}; ${summary.to_saved_model_s.toFixed(1)} s to the saved model, ` +
      `${summary.wall_s.toFixed(1)} s in all`,
  );
  const files = Object.values(outputs).map((f) => path.basename(f) + (f === snapshots || f === outputs.model ? '/' : ''));
  if (config.outputs.report) files.push('report.html', 'plots/');
  if (config.outputs.report && config.outputs.evaluate && config.outputs.save_model) files.push('evaluation.json', 'anomalies.csv');
  log(`outputs: ${path.relative(process.cwd(), out) || '.'}/ (summary.json, ${files.join(', ')})`);
}
