import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { runSettings } from '../config/runSettings.js';
import { AeflowError } from '../errors.js';
import type { DataSource } from '../pipeline/dataflow.js';
import { modelSource, readModelData } from '../pipeline/modelData.js';
import { inOrder, streamBatches } from '../pipeline/passes.js';
import { FeaturesCsv } from '../sinks/featuresCsv.js';
import { refuseOverwrite } from '../sinks/overwrite.js';
import { BadRows, skippedMessage } from '../sources/badRows.js';
import { Inference } from '../workers/inference.js';
import { resolveWorkers } from '../workers/workerCount.js';
import { backendFlag, dataFlags, inputSettings, modelFolder, parseCommand, positiveInt, usageError, workersFlag } from './args.js';

/** The encoder folder `--model` names: a run folder, its model/, model/encoder/ itself, or a model.json. */
function encoderFolder(given: string): string {
  const model = modelFolder(given);
  if (existsSync(path.join(model, 'encoder', 'model.json'))) return path.join(model, 'encoder');
  if (existsSync(path.join(model, 'model.json')) || (existsSync(model) && statSync(model).isFile())) return model;
  throw new AeflowError(
    'MODEL_NOT_FOUND',
    `${given}: no encoder (no encoder/model.json)`,
    'pass a run folder or its model folder (e.g. runs/mnist or runs/mnist/model)',
  );
}

/**
 * `aeflow encode`: stream a CSV through a saved encoder and write the codes, in input order, in bounded
 * memory. Scaling and the label column default to what the run's pipeline.yaml used.
 */
export async function encodeCommand(argv: string[]): Promise<number> {
  const args = parseCommand('encode', argv);
  if (!args) return 0;
  const { values } = args;
  if (!values.model || !values.input || !values.out) throw usageError('encode', 'aeflow encode needs --model, --input and --out');
  // A stream (or a consumer group) is read by a group consumer: loaded only then, with its Redis client.
  if (values.input.startsWith('redis://') || values.group !== undefined) return (await import('./stream.js')).streamCommand('encode', values);
  const out = values.out;
  const backend = backendFlag(values.backend) ?? 'auto';
  const workers = resolveWorkers(workersFlag(values.workers) ?? 'auto', backend);
  const batch = positiveInt('--batch', values.batch) ?? 1000;
  const encoderDir = encoderFolder(values.model);
  refuseOverwrite(existsSync(out) ? [out] : [], Boolean(values.force), { force: 'write over it', instead: 'choose another --out' });
  const run = runSettings(encoderDir);
  const header = !values['no-header'];
  const flags = dataFlags(values, run);
  const badRows = flags.onBadRow === 'skip' ? new BadRows() : undefined;
  // The model's preprocessing, when its pipeline had one (tabular data); a default label column the input lacks
  // means the input has no labels (new, unlabelled data).
  const source = modelSource(values.input, inputSettings(flags, header, false), readModelData(path.dirname(encoderDir)), !flags.labelGiven);
  const inference = await Inference.start({ model: encoderDir, backend, workers });
  let features: FeaturesCsv | null = null;
  try {
    const rows = await encodeRows(inference, source, out, batch, badRows, (f) => (features = f));
    console.log(`encode: ${rows} rows -> ${out} (${inference.codeSize} features each, ${inference.backend} backend)`);
    if (badRows && badRows.skipped.count > 0) console.log(`encode: ${skippedMessage(badRows.skipped)}`);
  } catch (e) {
    await (features as FeaturesCsv | null)?.abort();
    throw e;
  } finally {
    await inference.close();
  }
  return 0;
}

/** Streams the rows through the encoder, batches spread over the workers, and writes the codes in input order. */
async function encodeRows(
  inference: Inference,
  source: DataSource,
  out: string,
  batch: number,
  badRows: BadRows | undefined,
  opened: (f: FeaturesCsv) => void,
): Promise<number> {
  let features: FeaturesCsv | null = null;
  const write = inOrder();
  await streamBatches(inference, source, { name: 'encode', badRows, batch, modelName: 'encoder' }, (b) => {
    if (!features) {
      features = new FeaturesCsv(out, inference.codeSize, b.labels !== null);
      opened(features);
    }
    const f = features;
    return write(inference.encodeText(b.x, b.rows, f.withLabelColumn ? b.labels : undefined), (text) => f.writeText(text, b.rows));
  });
  return (await (features as FeaturesCsv | null)?.close()) ?? 0;
}
