import { existsSync } from 'node:fs';
import path from 'node:path';
import type { BackendChoice } from '../backend.js';
import { runSettings } from '../config/runSettings.js';
import { AeflowError } from '../errors.js';
import { type DataSource, defaultCacheDir } from '../pipeline/dataflow.js';
import { evaluateModel } from '../pipeline/evaluate.js';
import { ProgressBar } from '../sinks/progressBar.js';
import { resolveWorkers } from '../workers/workerCount.js';
import { writeReport } from '../sinks/report.js';
import { dataFlags, parseCommand, positiveInt } from './args.js';

const usage =
  'aeflow evaluate --model RUN/model --train X.csv --test Y.csv [--out DIR] [--components K] [--percentile P] [--test-rows N] [--no-probes] [--label-column NAME|N|none] [--scale N|none] [--on-bad-row error|skip] [--workers N|auto] [--backend B]';

/**
 * `aeflow evaluate`: the model's test reconstruction against PCA with the same code size (fitted on the training
 * rows), and anomaly scores per test row. Writes evaluation.json and anomalies.csv (default: the run folder).
 */
export async function evaluateCommand(argv: string[]): Promise<number> {
  const { values } = parseCommand(
    'evaluate',
    argv,
    {
      model: { type: 'string' },
      train: { type: 'string' },
      test: { type: 'string' },
      out: { type: 'string' },
      components: { type: 'string' },
      percentile: { type: 'string' },
      'label-column': { type: 'string' },
      scale: { type: 'string' },
      'on-bad-row': { type: 'string' },
      'test-rows': { type: 'string' },
      workers: { type: 'string' },
      backend: { type: 'string' },
      'no-probes': { type: 'boolean' },
    },
    usage,
  );
  if (values.help) {
    console.log(usage);
    return 0;
  }
  if (!values.model || !values.train || !values.test) throw new AeflowError('USAGE', 'aeflow evaluate needs --model, --train and --test', `usage: ${usage}`);
  if (!existsSync(path.join(values.model, 'autoencoder', 'model.json'))) {
    throw new AeflowError('MODEL_NOT_FOUND', `${values.model}: no autoencoder/model.json`, 'pass the model folder of a run (e.g. runs/mnist/model)');
  }
  const run = runSettings(values.model);
  const percentile = values.percentile === undefined ? 99 : Number(values.percentile);
  if (!(percentile > 0 && percentile <= 100))
    throw new AeflowError('USAGE', `--percentile ${values.percentile}: expected a number in (0, 100]`, 'e.g. --percentile 99');
  const { scale, labelColumn, onBadRow } = dataFlags(values, run);

  const out = path.resolve(values.out ?? path.dirname(path.resolve(values.model)));
  const backend = (values.backend as BackendChoice) ?? 'auto';
  const source = (file: string): DataSource => ({
    file,
    header: true,
    labelColumn,
    scale,
    onBadRow,
    parser: 'fast',
    // Every pass after the first over the training split reads the row cache (as training does).
    cache: { dir: defaultCacheDir(), maxBytes: 4096 * 1024 * 1024 },
  });
  const progress = new ProgressBar();
  const result = await evaluateModel({
    model: path.resolve(values.model),
    train: source(values.train),
    test: source(values.test),
    out,
    components: positiveInt('--components', values.components),
    percentile,
    testRows: positiveInt('--test-rows', values['test-rows']) ?? 10_000,
    seed: 0,
    backend,
    workers: resolveWorkers(values.workers === 'auto' || values.workers === undefined ? 'auto' : (positiveInt('--workers', values.workers) as number), backend),
    probes: !values['no-probes'],
    progress: (stage) => progress.update({ label: stage.name, fraction: stage.fraction, rows: stage.rows }),
  }).finally(() => progress.clear());
  const e = result.evaluation;
  const pad = (s: string) => s.padEnd(34);
  console.log(`evaluate: ${e.train_rows} training rows, ${e.test_rows} test rows, code size ${e.code_size}, ${e.backend} backend`);
  console.log(`${pad('')}test loss (0.5·MSE)`);
  console.log(`${pad('autoencoder')}${e.model_test_loss.toFixed(5)}`);
  console.log(`${pad(`PCA, ${e.pca_components} components`)}${e.pca_test_loss.toFixed(5)}`);
  console.log(
    `${pad('autoencoder / PCA')}${e.model_vs_pca.toFixed(2)}${e.model_vs_pca < 1 ? '  (the autoencoder reconstructs better)' : '  (PCA reconstructs better)'}`,
  );
  if (e.probes) {
    const p = e.probes;
    console.log(`${pad(`probe accuracy (${p.classes} classes)`)}${'logistic'.padStart(10)}${`${p.k}-NN`.padStart(10)}`);
    for (const [name, s] of [
      ['raw values', p.raw],
      [`PCA codes (${e.pca_components})`, p.pca],
      [`autoencoder codes (${e.code_size})`, p.model],
    ] as const) {
      console.log(`${pad(name)}${s.logistic.toFixed(3).padStart(10)}${s.knn.toFixed(3).padStart(10)}`);
    }
  }
  console.log(
    `anomalies: ${e.anomaly.flagged} of ${e.test_rows} test rows above the ${e.anomaly.percentile}th percentile of training errors (${e.anomaly.threshold.toPrecision(4)}) -> ${path.relative(process.cwd(), e.anomaly.file)}`,
  );
  for (const [split, s] of Object.entries(e.skipped_rows ?? {})) {
    if (s.count > 0) console.log(`skipped ${s.count} bad ${split} rows (on_bad_row: skip), at lines ${s.lines.join(', ')}; the first: ${s.first}`);
  }
  console.log(`evaluation: ${path.relative(process.cwd(), path.join(out, 'evaluation.json'))}`);
  // Evaluating a run in its own folder refreshes its report with the evaluation.
  if (existsSync(path.join(out, 'summary.json')) && existsSync(path.join(out, 'metrics.jsonl'))) {
    console.log(`report: ${path.relative(process.cwd(), await writeReport(out, result))}`);
  }
  return 0;
}
