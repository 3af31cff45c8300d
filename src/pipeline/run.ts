import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { filter, lastValueFrom, share, type Observable } from 'rxjs';
import type { LoadedPipeline } from '../config/load.js';
import { checkAgainstData } from '../config/load.js';
import { models } from '../models/builtins.js';
import { imageGrid, writePng } from '../sinks/imageGrid.js';
import { ProgressBar } from '../sinks/progressBar.js';
import { trainingEvents, type TrainingEvent, type TrainOptions } from './train.js';

export interface RunOptions extends TrainOptions {
  /** The run folder (already chosen, see sinks/runFolder.ts). */
  readonly out: string;
  /** Where epoch lines and the summary go. */
  readonly log?: (line: string) => void;
  readonly progress?: ProgressBar;
}

export interface Summary {
  pipeline: string;
  backend: string;
  workers: number;
  epochs: number;
  rows: number;
  test_rows: number;
  train_loss: number;
  test_loss: number;
  samples_per_s: number;
  train_s: number;
  wall_s: number;
  parameters: number;
  outputs: Record<string, string>;
  finished_at: string;
}

/**
 * Runs a pipeline end to end: checks it against its data, trains, and writes the run folder: metrics.jsonl,
 * snapshots/, comparison.png, model/, pipeline.yaml and summary.json. Side branches (console, progress bar,
 * metrics, snapshots) each subscribe to the one shared stream of training events.
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
  writeFileSync(path.join(out, 'pipeline.yaml'), `# ${loaded.file}, resolved (defaults filled in, --set applied)\n${loaded.resolvedYaml()}`);
  const metricsFile = path.join(out, 'metrics.jsonl');
  writeFileSync(metricsFile, '');

  // Images are square unless data.image says otherwise; a width that is no square leaves the last row short.
  const inputs = models.get(config.model.type).inputWidth(config.model);
  const width = config.data.image?.width ?? Math.ceil(Math.sqrt(inputs));
  const height = config.data.image?.height ?? Math.ceil(inputs / width);
  const grid = { width, height, rows: config.snapshots.rows, cols: config.snapshots.cols };

  const events$: Observable<TrainingEvent> = trainingEvents(loaded, options).pipe(share());
  let startEvent: Extract<TrainingEvent, { type: 'start' }> | null = null;
  const epochs: Array<Extract<TrainingEvent, { type: 'epoch' }>> = [];

  // Console and progress bar.
  events$.subscribe({
    next(e) {
      if (e.type === 'start') {
        startEvent = e;
        log(`aeflow: ${e.pipeline}: ${e.dataflow}`);
        for (const s of e.skipped) log(`backend: ${s.name} unavailable (${s.reason})`);
        log(`backend: ${e.backend}, ${e.workers} worker${e.workers === 1 ? '' : 's'}, ${e.parameters.toLocaleString('en-US')} parameters`);
      } else if (e.type === 'batch') {
        progress.update({ label: `epoch ${e.epoch}/${e.epochs}`, fraction: e.fraction, rows: e.rows, rowsPerS: e.rows / e.seconds, loss: e.loss });
      } else if (e.type === 'epoch') {
        progress.clear();
        if (e.log) {
          log(
            `epoch ${String(e.epoch).padStart(String(e.epochs).length)}/${e.epochs}  train loss ${e.trainLoss.toFixed(5)}  ` +
              `test loss ${e.testLoss.toFixed(5)}  ${e.seconds.toFixed(1)} s  ${Math.round(e.samplesPerS).toLocaleString('en-US')} samples/s`,
          );
        }
      }
    },
    error: () => progress.clear(),
  });
  // metrics.jsonl: one line per epoch. (A failure is reported once, by the awaited stream below.)
  events$.pipe(filter((e) => e.type === 'epoch')).subscribe({
    error: ignore,
    next: (e) => {
      epochs.push(e);
      const line = {
        epoch: e.epoch,
        train_loss: e.trainLoss,
        test_loss: e.testLoss,
        seconds: round(e.seconds, 3),
        samples_per_s: Math.round(e.samplesPerS),
        rows: e.rows,
        test_rows: e.testRows,
        tensors: e.tensors,
      };
      appendFileSync(metricsFile, JSON.stringify(line) + '\n');
    },
  });
  // Snapshots.
  events$.pipe(filter((e) => e.type === 'epoch')).subscribe({
    error: ignore,
    next: (e) => {
      if (e.snapshot) writePng(path.join(snapshots, `epoch-${String(e.epoch).padStart(3, '0')}.png`), imageGrid(e.snapshot.reconstructions, grid));
    },
  });

  const end = (await lastValueFrom(events$.pipe(filter((e) => e.type === 'end')))) as Extract<TrainingEvent, { type: 'end' }>;
  const outputs: Record<string, string> = { metrics: metricsFile, snapshots, pipeline: path.join(out, 'pipeline.yaml') };
  try {
    const n = end.final.inputs.length;
    writePng(path.join(out, 'comparison.png'), imageGrid([...end.final.inputs, ...end.final.reconstructions], { ...grid, rows: 2, cols: n }));
    outputs.comparison = path.join(out, 'comparison.png');
    if (config.outputs.save_model) {
      await end.trainer.save(path.join(out, 'model'));
      outputs.model = path.join(out, 'model');
    }
  } finally {
    await end.trainer.close();
  }

  const lastEpoch = epochs[epochs.length - 1];
  const trainSeconds = epochs.reduce((s, e) => s + e.seconds, 0);
  const s = startEvent as Extract<TrainingEvent, { type: 'start' }> | null;
  const summary: Summary = {
    pipeline: loaded.name,
    backend: s?.backend ?? 'unknown',
    workers: s?.workers ?? 0,
    epochs: epochs.length,
    rows: lastEpoch.rows,
    test_rows: lastEpoch.testRows,
    train_loss: lastEpoch.trainLoss,
    test_loss: lastEpoch.testLoss,
    samples_per_s: Math.round(epochs.reduce((n, e) => n + e.rows, 0) / trainSeconds),
    train_s: round(trainSeconds, 2),
    wall_s: round((performance.now() - started) / 1000, 2),
    parameters: s?.parameters ?? 0,
    outputs: { ...outputs, summary: path.join(out, 'summary.json') },
    finished_at: new Date().toISOString(),
  };
  writeFileSync(path.join(out, 'summary.json'), JSON.stringify(summary, null, 2) + '\n');
  log(
    `done: test loss ${summary.test_loss.toFixed(5)}, train loss ${summary.train_loss.toFixed(5)} after ${summary.epochs} epochs; ` +
      `${summary.samples_per_s.toLocaleString('en-US')} samples/s on ${summary.backend}; ${summary.wall_s.toFixed(1)} s in all`,
  );
  log(
    `outputs: ${path.relative(process.cwd(), out) || '.'}/ (summary.json, metrics.jsonl, snapshots/, comparison.png${config.outputs.save_model ? ', model/' : ''}, pipeline.yaml)`,
  );
  return summary;
}

function ignore(): void {}

function round(v: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(v * f) / f;
}
