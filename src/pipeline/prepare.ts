import { existsSync, promises as fs } from 'node:fs';
import path from 'node:path';
import { filter } from 'rxjs';
import { needsPreprocessing } from '../config/columns.js';
import type { LoadedPipeline } from '../config/load.js';
import { fitPreprocessing } from '../preprocessing/fit.js';
import { Preprocessing, type PreprocessingJson } from '../preprocessing/preprocessing.js';
import { BadRows } from '../sources/badRows.js';
import { dataRows, dataSource, trainingShape } from './dataflow.js';
import { PREPROCESSING_FILE } from './modelData.js';
import type { StreamFeed } from './streamFeed.js';

export interface PrepareOptions {
  /** A resumed run's folder: its preprocessing.json is reused, so the model goes on seeing the same features. */
  readonly resumeFolder?: string | null;
  /** Told how far the statistics pass has read. */
  readonly progress?: (bytesParsed: number, totalBytes: number, rows: number) => void;
  /** The Redis stream of data.train: the statistics pass fits on its first rows_per_epoch entries. */
  readonly feed?: StreamFeed | null;
  /** Stops a statistics pass that waits for a stream's entries (INTERRUPTED). */
  readonly signal?: AbortSignal;
}

/**
 * What a pipeline learns from its data before training: a tabular pipeline's preprocessing, fitted in one pass
 * over the raw training split (or read back on resume), and an `auto` input's width. From a Redis stream, the
 * split is its first rows_per_epoch entries (the first epoch's), read without being consumed.
 */
export async function prepareData(loaded: LoadedPipeline, options: PrepareOptions = {}): Promise<LoadedPipeline> {
  const { config } = loaded;
  if (needsPreprocessing(config)) {
    const saved = options.resumeFolder ? path.join(options.resumeFolder, PREPROCESSING_FILE) : null;
    const p = saved && existsSync(saved) ? await readPreprocessing(saved) : await fitOnTrainingSplit(loaded, options);
    return loaded.withPreprocessing(p);
  }
  if (!loaded.autoInput) return loaded;
  const { width } = await trainingShape(config);
  return loaded.withInputWidth(width);
}

/** The statistics pass: every raw training row (minus the ones training will skip) into the column statistics. */
async function fitOnTrainingSplit(loaded: LoadedPipeline, options: PrepareOptions): Promise<Preprocessing> {
  const { data } = loaded.config;
  const raw = dataSource(loaded.config, 'train', null, true);
  let rows$ = options.feed
    ? options.feed.firstRows(raw, { badRows: new BadRows(), signal: options.signal })
    : dataRows(raw, { badRows: new BadRows(), progress: options.progress });
  // Under missing: skip, the rows training drops take no part in the statistics either.
  if (data.missing === 'skip') rows$ = rows$.pipe(filter((row) => !row.x.some(Number.isNaN)));
  return fitPreprocessing(rows$, {
    normalize: data.normalize,
    scale: data.scale,
    missing: data.missing,
    indicators: data.missing_indicators,
    maxCategories: data.max_categories,
  });
}

async function readPreprocessing(file: string): Promise<Preprocessing> {
  return Preprocessing.fromJson(JSON.parse(await fs.readFile(file, 'utf8')) as PreprocessingJson, file);
}

/** Writes preprocessing.json into a folder (the run's, for resume; the model's, for everything that uses it). */
export async function writePreprocessing(folder: string, p: Preprocessing): Promise<string> {
  await fs.mkdir(folder, { recursive: true });
  const file = path.join(folder, PREPROCESSING_FILE);
  await fs.writeFile(file, JSON.stringify(p.json, null, 2) + '\n');
  return file;
}
