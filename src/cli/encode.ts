import { existsSync } from 'node:fs';
import path from 'node:path';
import { concatMap, defer, finalize, lastValueFrom } from 'rxjs';
import type { BackendChoice } from '../backend.js';
import { runSettings } from '../config/runSettings.js';
import { AeflowError } from '../errors.js';
import { batchRows } from '../operators/batchRows.js';
import { normalize } from '../operators/normalize.js';
import { FeaturesCsv } from '../sinks/featuresCsv.js';
import { BadRows } from '../sources/badRows.js';
import { csvRows, csvShape } from '../sources/csv.js';
import { FlowControl } from '../sources/flowControl.js';
import { WorkerPool } from '../workers/pool.js';
import { dataFlags, parseCommand, positiveInt } from './args.js';

const usage =
  'aeflow encode --model RUN/model --input X.csv --out features.csv [--label-column NAME|N|none] [--scale N|none] [--no-header] [--on-bad-row error|skip] [--batch N] [--backend B]';

/**
 * `aeflow encode`: stream a CSV through a saved encoder and write the codes, in input order, in bounded
 * memory. Scaling and the label column default to what the run's pipeline.yaml used.
 */
export async function encodeCommand(argv: string[]): Promise<number> {
  const { values } = parseCommand(
    'encode',
    argv,
    {
      model: { type: 'string' },
      input: { type: 'string' },
      out: { type: 'string' },
      'label-column': { type: 'string' },
      scale: { type: 'string' },
      'no-header': { type: 'boolean' },
      batch: { type: 'string' },
      backend: { type: 'string' },
      'on-bad-row': { type: 'string' },
    },
    usage,
  );
  if (values.help) {
    console.log(usage);
    return 0;
  }
  if (!values.model || !values.input || !values.out) throw new AeflowError('USAGE', 'aeflow encode needs --model, --input and --out', `usage: ${usage}`);
  const encoderDir = existsSync(path.join(values.model, 'encoder', 'model.json')) ? path.join(values.model, 'encoder') : values.model;
  const run = runSettings(encoderDir);
  const header = !values['no-header'];
  const flags = dataFlags(values, run);
  const scale = flags.scale;
  let labelColumn = flags.labelColumn;
  // A default label column the input lacks means the input has no labels (e.g. new, unlabelled data).
  if (!flags.labelGiven && typeof labelColumn === 'string') {
    const { origin } = await csvShape(values.input, { header, labelColumn: null });
    if (!origin.header?.includes(labelColumn)) labelColumn = null;
  }
  const batch = positiveInt('--batch', values.batch) ?? 1000;
  const badRows = flags.onBadRow === 'skip' ? new BadRows() : undefined;

  const pool = WorkerPool.create(1);
  let features: FeaturesCsv | null = null;
  try {
    const model = await pool.call(0, { kind: 'load', backend: (values.backend as BackendChoice) ?? 'auto', model: encoderDir });
    const flow = new FlowControl(2);
    const rows$ = csvRows(values.input, { header, labelColumn, flow, badRows }).pipe(normalize(scale, badRows), batchRows(batch));
    let checked = false;
    await lastValueFrom(
      rows$.pipe(
        concatMap((b) => {
          if (!checked) {
            checked = true;
            if (b.cols !== model.inputs) {
              throw new AeflowError(
                'MODEL_INPUT_MISMATCH',
                `${values.input} has ${b.cols} feature columns, the encoder takes ${model.inputs}`,
                'check --label-column and that this is the data the model was trained on',
              );
            }
            features = new FeaturesCsv(values.out as string, model.outputs, b.labels !== null);
          }
          flow.acquire();
          const labels = b.labels;
          return defer(async () => {
            const { y, cols } = await pool.call(0, { kind: 'predict', x: b.x, target: null, rows: b.rows, cols: b.cols }, [b.x.buffer]);
            await features!.write(y, cols, labels);
          }).pipe(finalize(() => flow.release()));
        }),
      ),
      { defaultValue: undefined },
    );
    const rows = await (features as FeaturesCsv | null)?.close();
    features = null;
    console.log(`encode: ${rows ?? 0} rows -> ${values.out} (${model.outputs} features each, ${model.backend} backend)`);
    const skipped = badRows?.skipped;
    if (skipped && skipped.count > 0) {
      console.log(
        `encode: skipped ${skipped.count} bad row${skipped.count === 1 ? '' : 's'} (on_bad_row: skip), at lines ${skipped.lines.join(', ')}${skipped.count > skipped.lines.length ? ', …' : ''}; the first: ${skipped.first}`,
      );
    }
  } catch (e) {
    await (features as FeaturesCsv | null)?.abort();
    throw e;
  } finally {
    await pool.close();
  }
  return 0;
}
