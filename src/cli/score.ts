import { existsSync } from 'node:fs';
import { runSettings } from '../config/runSettings.js';
import { columnGroups as featureGroups, type ModelData, modelSource, readModelData, requireThreshold } from '../pipeline/modelData.js';
import { inOrder, streamBatches } from '../pipeline/passes.js';
import { averagePrecision, rocAuc } from '../pipeline/ranking.js';
import { refuseOverwrite } from '../sinks/overwrite.js';
import { ScoresCsv } from '../sinks/scoresCsv.js';
import { BadRows, skippedMessage } from '../sources/badRows.js';
import { csvShape } from '../sources/csv.js';
import { Inference } from '../workers/inference.js';
import { resolveWorkers } from '../workers/workerCount.js';
import { backendFlag, dataFlags, inputSettings, modelFolder, parseCommand, usageError, workersFlag } from './args.js';

/** Input columns named per row in scores.csv: the most contributing. */
const TOP = 3;

/**
 * `aeflow score`: each row's reconstruction error under a run's model, the anomaly flag from the threshold
 * saved with it, and the input columns that contribute most to the error; with `--anomaly-label`, how well the
 * errors rank the rows that label marks (ROC-AUC, PR-AUC). Streams, in input order.
 */
export async function scoreCommand(argv: string[]): Promise<number> {
  const args = parseCommand('score', argv);
  if (!args) return 0;
  const { values } = args;
  if (!values.model || !values.input || !values.out) throw usageError('score', 'aeflow score needs --model, --input and --out');
  // A stream (or a consumer group) is read by a group consumer: loaded only then, with its Redis client.
  if (values.input.startsWith('redis://') || values.group !== undefined) return (await import('./stream.js')).streamCommand('score', values);
  const folder = modelFolder(values.model);
  const data = readModelData(folder);
  const anomaly = requireThreshold(data, values.model);
  const out = values.out;
  refuseOverwrite(existsSync(out) ? [out] : [], Boolean(values.force), { force: 'write over it', instead: 'choose another --out' });
  const flags = dataFlags(values, runSettings(folder));
  const anomalyLabel = values['anomaly-label'] === undefined ? null : Number(values['anomaly-label']);
  if (anomalyLabel !== null && Number.isNaN(anomalyLabel))
    throw usageError('score', `--anomaly-label ${values['anomaly-label']}: expected the label's value, a number`);
  const backend = backendFlag(values.backend) ?? 'auto';
  const inference = await Inference.start({ model: folder, backend, workers: resolveWorkers(workersFlag(values.workers) ?? 'auto', backend) });
  try {
    const { names, groups } = await columnGroups(data, values.input, values['no-header'] !== true, inference.inputs, flags.labelColumn);
    const badRows = flags.onBadRow === 'skip' ? new BadRows() : undefined;
    const source = modelSource(values.input, inputSettings(flags, values['no-header'] !== true, false), data, !flags.labelGiven);
    const threshold = anomaly.threshold;
    const ranking = anomalyLabel === null ? null : { errors: [] as number[], positive: [] as boolean[] };
    let csv: ScoresCsv | null = null;
    let flagged = 0;
    const write = inOrder();
    try {
      await streamBatches(inference, source, { name: 'score', badRows }, (b) => {
        csv ??= new ScoresCsv(out, names, b.labels !== null, TOP);
        const sink = csv;
        return write(inference.contributions(b.x, b.rows, groups, names.length, TOP), async (r) => {
          for (let i = 0; i < b.rows; i++) {
            if (r.errors[i] > threshold) flagged++;
            if (ranking) {
              ranking.errors.push(r.errors[i]);
              ranking.positive.push(b.labels !== null && b.labels[i] === anomalyLabel);
            }
          }
          await sink.write(b, r.errors, r.columns, r.shares, threshold);
        });
      });
      await (csv as ScoresCsv | null)?.close();
    } catch (e) {
      await (csv as ScoresCsv | null)?.abort();
      throw e;
    }
    const rows = (csv as ScoresCsv | null)?.rows ?? 0;
    console.log(
      `score: ${rows} rows -> ${out}; ${flagged} above the threshold ${threshold.toPrecision(4)} (the ${anomaly.percentile}th percentile of the training errors)`,
    );
    if (ranking) {
      const positives = ranking.positive.filter(Boolean).length;
      console.log(
        `score: ${positives} rows labelled ${anomalyLabel}: ROC-AUC ${rocAuc(ranking.errors, ranking.positive).toFixed(4)}, PR-AUC ${averagePrecision(ranking.errors, ranking.positive).toFixed(4)}`,
      );
    }
    if (badRows && badRows.skipped.count > 0) console.log(`score: ${skippedMessage(badRows.skipped)}`);
  } finally {
    await inference.close();
  }
  return 0;
}

/**
 * The input columns the model's features come from (their names, and each feature's column), so a row's error
 * can be put down to columns: a categorical column's one-hot features, and a numeric one's missing-value
 * indicator, count as that column.
 */
async function columnGroups(
  data: ModelData,
  input: string,
  header: boolean,
  inputs: number,
  labelColumn: string | number | null,
): Promise<{ names: string[]; groups: Int32Array }> {
  const p = data.preprocessing;
  if (p) return { names: p.json.columns.map((c) => c.name), groups: featureGroups(p) };
  const columns = { features: null, exclude: [], categorical: [], allowMissing: false, labelOptional: true };
  const origin = input === '-' || !header ? null : (await csvShape(input, { header, labelColumn, columns })).origin;
  const names = Array.from({ length: inputs }, (_, f) => origin?.header?.[origin.featureColumns[f]] ?? `feature ${f + 1}`);
  return { names, groups: Int32Array.from({ length: inputs }, (_, f) => f) };
}
