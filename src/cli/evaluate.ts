import { existsSync } from 'node:fs';
import path from 'node:path';
import { runSettings } from '../config/runSettings.js';
import { AeflowError } from '../errors.js';
import type { DataSource } from '../pipeline/dataflow.js';
import { type EvaluateOptions, type Evaluation, evaluateModel } from '../pipeline/evaluate.js';
import { modelSource, readModelData } from '../pipeline/modelData.js';
import { existing, refuseOverwrite } from '../sinks/overwrite.js';
import { ProgressBar } from '../sinks/progressBar.js';
import { writeReport } from '../sinks/report.js';
import { skippedMessage } from '../sources/badRows.js';
import { resolveWorkers } from '../workers/workerCount.js';
import { backendFlag, dataFlags, inputSettings, modelFolder, parseCommand, positiveInt, usageError, workersFlag } from './args.js';

/** A run folder: evaluating into it refreshes its report. */
const isRunFolder = (dir: string) => existsSync(path.join(dir, 'summary.json')) && existsSync(path.join(dir, 'metrics.jsonl'));

/**
 * `aeflow evaluate`: the model's test reconstruction against PCA with the same code size (fitted on the training
 * rows), and anomaly scores per test row. Writes evaluation.json and anomalies.csv (default: the run folder).
 */
export async function evaluateCommand(argv: string[]): Promise<number> {
  const args = parseCommand('evaluate', argv);
  if (!args) return 0;
  const options = evaluateOptions(args.values);
  const progress = new ProgressBar();
  const result = await evaluateModel({
    ...options,
    progress: (stage) => progress.update({ label: stage.name, fraction: stage.fraction, rows: stage.rows }),
  }).finally(() => progress.clear());
  printEvaluation(result.evaluation, options.out);
  // Evaluating a run in its own folder refreshes its report with the evaluation.
  if (isRunFolder(options.out)) console.log(`report: ${path.relative(process.cwd(), await writeReport(options.out, result))}`);
  return 0;
}

type Values = NonNullable<ReturnType<typeof parseCommand<'evaluate'>>>['values'];

/** The evaluation the flags ask for, every flag checked, and the outputs it would write over refused without --force. */
function evaluateOptions(values: Values): EvaluateOptions {
  if (!values.model || !values.train || !values.test) throw usageError('evaluate', 'aeflow evaluate needs --model, --train and --test');
  const percentile = values.percentile === undefined ? 99 : Number(values.percentile);
  if (!(percentile > 0 && percentile <= 100))
    throw new AeflowError('USAGE', `--percentile ${values.percentile}: expected a number in (0, 100]`, 'e.g. --percentile 99');
  const backend = backendFlag(values.backend) ?? 'auto';
  const workers = resolveWorkers(workersFlag(values.workers) ?? 'auto', backend);
  const components = positiveInt('--components', values.components);
  const testRows = positiveInt('--test-rows', values['test-rows']) ?? 10_000;
  const model = modelFolder(values.model);
  if (!existsSync(path.join(model, 'autoencoder', 'model.json'))) {
    throw new AeflowError(
      'MODEL_NOT_FOUND',
      `${values.model}: no autoencoder/model.json`,
      'pass a run folder or its model folder (e.g. runs/mnist or runs/mnist/model)',
    );
  }
  const { scale, labelColumn, onBadRow } = dataFlags(values, runSettings(model));

  const out = path.resolve(values.out ?? path.dirname(path.resolve(model)));
  const ownRun = isRunFolder(out);
  refuseOverwrite(existing([path.join(out, 'evaluation.json'), path.join(out, 'anomalies.csv')]), Boolean(values.force), {
    force: ownRun ? "refresh the run's evaluation (and its report.html)" : 'write over them',
    instead: ownRun ? 'give --out DIR to write the evaluation elsewhere' : 'choose another --out',
  });
  // Every pass after the first over the training split reads the row cache (as training does); a model with
  // preprocessing (tabular data) reads its columns as it was trained on them.
  const data = readModelData(model);
  const source = (file: string): DataSource => modelSource(file, inputSettings({ labelColumn, scale, onBadRow }, true, true), data, false);
  return {
    model: path.resolve(model),
    train: source(values.train),
    test: source(values.test),
    out,
    components,
    percentile,
    testRows,
    seed: 0,
    backend,
    workers,
    probes: !values['no-probes'],
  };
}

/** The evaluation as a table: losses, probe accuracies, anomalies, skipped rows. */
function printEvaluation(e: Evaluation, out: string): void {
  const pad = (s: string) => s.padEnd(34);
  console.log(`evaluate: ${e.train_rows} training rows, ${e.test_rows} test rows, code size ${e.code_size}, ${e.backend} backend`);
  const perRow = (v: number) => v.toFixed(2).padStart(24);
  console.log(`${pad('')}test loss (0.5·MSE)${'squared error per row'.padStart(24)}`);
  console.log(`${pad('autoencoder')}${e.model_test_loss.toFixed(5).padEnd(19)}${perRow(e.model_sq_error_per_row)}`);
  console.log(`${pad(`PCA, ${e.pca_components} components`)}${e.pca_test_loss.toFixed(5).padEnd(19)}${perRow(e.pca_sq_error_per_row)}`);
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
  for (const [split, s] of Object.entries(e.skipped_rows ?? {})) if (s.count > 0) console.log(skippedMessage(s, split));
  console.log(`evaluation: ${path.relative(process.cwd(), path.join(out, 'evaluation.json'))}`);
}
