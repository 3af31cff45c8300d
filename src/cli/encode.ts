import { existsSync } from 'node:fs';
import path from 'node:path';
import { defer, finalize, lastValueFrom, mergeMap } from 'rxjs';
import type { BackendChoice } from '../backend.js';
import { runSettings } from '../config/runSettings.js';
import { AeflowError } from '../errors.js';
import { batchRows } from '../operators/batchRows.js';
import { type DataSource, dataRows, defaultCacheDir } from '../pipeline/dataflow.js';
import { widthMismatch } from '../pipeline/passes.js';
import { FeaturesCsv } from '../sinks/featuresCsv.js';
import { BadRows } from '../sources/badRows.js';
import { csvShape } from '../sources/csv.js';
import { FlowControl } from '../sources/flowControl.js';
import { Inference } from '../workers/inference.js';
import { resolveWorkers } from '../workers/workerCount.js';
import { dataFlags, parseCommand, positiveInt } from './args.js';

const usage =
  'aeflow encode --model RUN/model --input X.csv --out features.csv [--label-column NAME|N|none] [--scale N|none] [--no-header] [--on-bad-row error|skip] [--batch N] [--workers N|auto] [--backend B]';

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
      workers: { type: 'string' },
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

  const source: DataSource = {
    file: values.input,
    header,
    labelColumn,
    scale,
    onBadRow: flags.onBadRow,
    parser: 'fast',
    // One pass: read the row cache when training left one, but make none.
    cache: { dir: defaultCacheDir(), maxBytes: 4096 * 1024 * 1024, write: false },
  };
  const backend = (values.backend as BackendChoice) ?? 'auto';
  const workers = resolveWorkers(
    values.workers === undefined || values.workers === 'auto' ? 'auto' : (positiveInt('--workers', values.workers) as number),
    backend,
  );
  const inference = await Inference.start({ model: encoderDir, backend, workers });
  let features: FeaturesCsv | null = null;
  try {
    const rows = await encodeRows(inference, source, values.out as string, batch, badRows, (f) => (features = f));
    console.log(`encode: ${rows} rows -> ${values.out} (${inference.codeSize} features each, ${inference.backend} backend)`);
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
    await inference.close();
  }
  return 0;
}

/**
 * Streams the rows through the encoder, batches spread over the workers, and writes the codes in input order:
 * each batch waits for the one before it to be written.
 */
async function encodeRows(
  inference: Inference,
  source: DataSource,
  out: string,
  batch: number,
  badRows: BadRows | undefined,
  opened: (f: FeaturesCsv) => void,
): Promise<number> {
  const flow = new FlowControl(2 * inference.workers);
  let features: FeaturesCsv | null = null;
  let previous: Promise<void> = Promise.resolve();
  await lastValueFrom(
    dataRows(source, { flow, badRows }).pipe(
      batchRows(batch, inference.allocate),
      mergeMap((b) => {
        if (b.cols !== inference.inputs) throw widthMismatch(source.file, b.cols, inference.inputs, 'encoder');
        if (!features) {
          features = new FeaturesCsv(out, inference.codeSize, b.labels !== null);
          opened(features);
        }
        const f = features;
        flow.acquire();
        const coding = inference.encodeText(b.x, b.rows, f.withLabelColumn ? b.labels : undefined);
        const before = previous;
        previous = (async () => {
          const text = await coding;
          await before;
          await f.writeText(text, b.rows);
        })();
        return defer(() => previous).pipe(
          finalize(() => {
            inference.release(b.x);
            flow.release();
          }),
        );
      }, 2 * inference.workers),
    ),
    { defaultValue: undefined },
  );
  return (await (features as FeaturesCsv | null)?.close()) ?? 0;
}
