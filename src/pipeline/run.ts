import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { filter, lastValueFrom, type Observable, share } from 'rxjs';
import type { LoadedPipeline } from '../config/load.js';
import { checkAgainstData } from '../config/load.js';
import { models } from '../models/builtins.js';
import { consoleSink } from '../sinks/consoleLog.js';
import { writePng } from '../sinks/imageGrid.js';
import { MetricsFile } from '../sinks/metricsFile.js';
import { ProgressBar } from '../sinks/progressBar.js';
import { comparisonImage, generatedImages, snapshotImage } from '../sinks/snapshots.js';
import { AeflowError } from '../errors.js';
import type { BackendChoice } from '../backend.js';
import { CheckpointWriter } from '../sinks/checkpoint.js';
import { writeReport } from '../sinks/report.js';
import type { SkippedRows } from '../sources/badRows.js';
import type { InferenceRequests } from '../workers/inferenceProtocol.js';
import type { WorkerThreads } from '../workers/threads.js';
import { dataSource } from './dataflow.js';
import { type EvaluationResult, evaluateModel } from './evaluate.js';
import { type EpochEvent, type EpochRecord, type TrainingEvent, type TrainOptions, trainingEvents } from './train.js';

export interface RunOptions extends TrainOptions {
  /** The run folder (already chosen, see sinks/runFolder.ts). */
  readonly out: string;
  /** Where epoch lines and the summary go. */
  readonly log?: (line: string) => void;
  readonly progress?: ProgressBar;
}

export interface Summary {
  pipeline: string;
  model: string;
  backend: string;
  /** Whose matMul ran: `native avx512` (aeflow's native kernel on WASM), or the backend's own. */
  matmul: string;
  workers: number;
  epochs: number;
  phases: string[];
  rows: number;
  test_rows: number;
  train_loss: number;
  test_loss: number;
  /** Named parts of the test loss (a VAE's reconstruction and kl). */
  test_terms: Record<string, number>;
  /** With a noise stage: the loss of the noisy test input against the clean one, what doing nothing scores. */
  noisy_input_loss?: number;
  /** Under `on_bad_row: skip`: what each split's last pass skipped (count, first lines, first message). */
  skipped_rows?: { train: SkippedRows; test: SkippedRows };
  samples_per_s: number;
  train_s: number;
  wall_s: number;
  parameters: number;
  /** The process's peak resident memory so far, worker threads included. */
  peak_rss_mb: number;
  outputs: Record<string, string>;
  finished_at: string;
}

type Start = Extract<TrainingEvent, { type: 'start' }>;
type End = Extract<TrainingEvent, { type: 'end' }>;

/**
 * Runs a pipeline end to end: checks it against its data, trains, and writes the run folder: metrics.jsonl,
 * snapshots/, comparison.png, model/, pipeline.yaml and summary.json (and a generative model's samples).
 * Side branches (console and progress bar, metrics, snapshots) each subscribe to the one shared stream of
 * training events and only write.
 */
export async function runPipeline(loaded: LoadedPipeline, options: RunOptions): Promise<Summary> {
  const started = performance.now();
  const log = options.log ?? ((line: string) => console.log(line));
  const progress = options.progress ?? new ProgressBar();
  const { config } = loaded;
  await checkAgainstData(loaded);

  const out = options.out;
  const snapshots = path.join(out, 'snapshots');
  mkdirSync(snapshots, { recursive: true });
  const pipelineFile = path.join(out, 'pipeline.yaml');
  const resume = options.resume;
  // A resumed run keeps its pipeline.yaml, and its metrics up to the checkpoint (later lines died with the crash).
  if (!resume) writeFileSync(pipelineFile, `# ${loaded.file}, resolved (defaults filled in, --set applied)\n${loaded.resolvedYaml()}`);
  const metrics = new MetricsFile(path.join(out, 'metrics.jsonl'));
  const previous = (resume?.metrics ?? []) as EpochRecord[];
  for (const e of previous) metrics.append(e);
  const shape = imageShape(loaded);
  const { rows, cols } = config.snapshots;

  const events$: Observable<TrainingEvent> = trainingEvents(loaded, options).pipe(share());
  const checkpoints = new CheckpointWriter(out);
  const epochs: EpochRecord[] = [...previous];
  let start: Start | null = null;
  // A failure is reported once, by the awaited stream below; the side branches ignore it.
  const onError = { error: () => progress.clear() };
  const epochs$ = events$.pipe(filter((e): e is EpochEvent => e.type === 'epoch'));
  events$.subscribe({ next: consoleSink(log, progress), ...onError });
  events$.pipe(filter((e): e is Start => e.type === 'start')).subscribe({ next: (e) => (start = e), ...onError });
  epochs$.subscribe({
    next: (e) => {
      epochs.push(e);
      metrics.append(e);
    },
    ...onError,
  });
  events$.pipe(filter((e): e is Extract<TrainingEvent, { type: 'checkpoint' }> => e.type === 'checkpoint')).subscribe({
    next: (e) => checkpoints.write(e.checkpoint),
    ...onError,
  });
  epochs$.pipe(filter((e) => e.snapshot !== null)).subscribe({
    next: (e) => writePng(path.join(snapshots, `epoch-${String(e.epoch).padStart(3, '0')}.png`), snapshotImage(e.snapshot!, shape, rows, cols)),
    ...onError,
  });

  let end: End;
  try {
    end = (await lastValueFrom(events$.pipe(filter((e): e is End => e.type === 'end')))) as End;
  } catch (e) {
    // The checkpoint a stop wrote (or the last epoch's) is on disk before the run says where to go on from.
    await checkpoints.settled().catch(() => undefined);
    if (e instanceof AeflowError && e.code === 'INTERRUPTED') {
      throw new AeflowError('INTERRUPTED', e.message, `go on with: npx aeflow run --resume ${path.relative(process.cwd(), out) || '.'}`);
    }
    throw e;
  }
  const outputs: Record<string, string> = { metrics: metrics.file, snapshots, pipeline: pipelineFile };
  const evaluates = config.outputs.report && config.outputs.evaluate && config.outputs.save_model;
  let threads: WorkerThreads<InferenceRequests> | undefined;
  try {
    outputs.comparison = path.join(out, 'comparison.png');
    writePng(outputs.comparison, comparisonImage(end.final, shape));
    if (end.generated) {
      for (const [name, image] of Object.entries(generatedImages(end.generated, shape, rows, cols))) {
        outputs[name.replace('.png', '')] = path.join(out, name);
        writePng(path.join(out, name), image);
      }
    }
    if (config.outputs.save_model) {
      outputs.model = path.join(out, 'model');
      await end.trainer.save(outputs.model);
    }
    // Last, so a checkpoint that could not be written costs nothing else.
    await checkpoints.settled();
    // The evaluation loads the saved model in the threads that trained it (TensorFlow.js loaded, memory grown).
    if (evaluates) threads = await end.trainer.handOver();
  } finally {
    if (!threads) await end.trainer.close();
  }

  const last = epochs[epochs.length - 1];
  const trainSeconds = epochs.reduce((s, e) => s + e.seconds, 0);
  const s = start as Start | null;
  const summary: Summary = {
    pipeline: loaded.name,
    model: config.model.type,
    backend: s?.backend ?? 'unknown',
    matmul: s?.matMul ?? 'unknown',
    workers: s?.workers ?? 0,
    epochs: epochs.length,
    phases: s?.phases.map((p) => p.name) ?? [],
    rows: last.rows,
    test_rows: last.testRows,
    train_loss: last.trainLoss,
    test_loss: last.testLoss,
    test_terms: last.testTerms,
    ...(last.noisyInputLoss === null ? {} : { noisy_input_loss: last.noisyInputLoss }),
    ...(last.skipped ? { skipped_rows: last.skipped } : {}),
    samples_per_s: Math.round(epochs.reduce((n, e) => n + e.rows, 0) / trainSeconds),
    train_s: round(trainSeconds, 2),
    wall_s: round((performance.now() - started) / 1000, 2),
    parameters: s?.parameters ?? 0,
    peak_rss_mb: Math.round(process.resourceUsage().maxRSS / 1024),
    outputs: { ...outputs, summary: path.join(out, 'summary.json') },
    finished_at: new Date().toISOString(),
  };
  try {
    writeFileSync(path.join(out, 'summary.json'), JSON.stringify(summary, null, 2) + '\n');
  } catch (e) {
    await threads?.close();
    throw e;
  }
  if (config.outputs.report) {
    let evaluation: EvaluationResult | null = null;
    if (evaluates) {
      log('evaluating the model for the report: PCA baseline, probes, anomaly scores (outputs.evaluate: false skips this)…');
      evaluation = await evaluateModel({
        model: path.join(out, 'model'),
        train: dataSource(config, 'train'),
        test: dataSource(config, 'test'),
        out,
        percentile: 99,
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
        `evaluation: test loss ${e.model_test_loss.toFixed(5)} vs PCA-${e.pca_components} ${e.pca_test_loss.toFixed(5)}` +
          (e.probes
            ? `; probes (logistic / ${e.probes.k}-NN): codes ${e.probes.model.logistic.toFixed(3)} / ${e.probes.model.knn.toFixed(3)}, PCA ${e.probes.pca.logistic.toFixed(3)} / ${e.probes.pca.knn.toFixed(3)}`
            : ''),
      );
    }
    await writeReport(out, evaluation);
  }
  log(
    `done: test loss ${summary.test_loss.toFixed(5)}, train loss ${summary.train_loss.toFixed(5)} after ${summary.epochs} epoch${summary.epochs === 1 ? '' : 's'}` +
      `${summary.noisy_input_loss === undefined ? '' : ` (the noisy input itself scores ${summary.noisy_input_loss.toFixed(5)})`}; ` +
      `${summary.samples_per_s.toLocaleString('en-US')} samples/s on ${summary.backend}; ${summary.wall_s.toFixed(1)} s from start to saved model`,
  );
  const files = Object.values(outputs).map((f) => path.basename(f) + (f === snapshots || f === outputs.model ? '/' : ''));
  if (config.outputs.report) files.push('report.html', 'plots/');
  if (config.outputs.report && config.outputs.evaluate && config.outputs.save_model) files.push('evaluation.json', 'anomalies.csv');
  log(`outputs: ${path.relative(process.cwd(), out) || '.'}/ (summary.json, ${files.join(', ')})`);
  return summary;
}

/** Images are square unless data.image says otherwise; a width that is no square leaves the last row short. */
function imageShape(loaded: LoadedPipeline): { width: number; height: number } {
  const { config } = loaded;
  const inputs = models.get(config.model.type).inputWidth(config.model);
  const width = config.data.image?.width ?? Math.ceil(Math.sqrt(inputs));
  return { width, height: config.data.image?.height ?? Math.ceil(inputs / width) };
}

function round(v: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(v * f) / f;
}
