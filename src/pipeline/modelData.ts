import { existsSync, promises as fs, readFileSync } from 'node:fs';
import path from 'node:path';
import { AeflowError } from '../errors.js';
import { Preprocessing, type PreprocessingJson } from '../preprocessing/preprocessing.js';
import type { ColumnPlan } from '../sources/rowBuilder.js';
import type { DataSource } from './dataflow.js';

/** model/anomaly.json: the threshold `score` and `serve` flag rows above, fitted on the training split. */
export interface AnomalyThreshold {
  readonly percentile: number;
  /** 0.5·MSE per row, in the model's (normalized) units. */
  readonly threshold: number;
  /** The threshold lies within this fraction of the exact percentile (a DDSketch's guarantee). */
  readonly relative_accuracy: number;
  readonly training_rows: number;
}

/** What a saved model carries besides its weights, read from its folder (RUN/model). */
export interface ModelData {
  readonly folder: string;
  /** The fitted preprocessing, for models of pipelines that have one (tabular data), else null. */
  readonly preprocessing: Preprocessing | null;
  readonly anomaly: AnomalyThreshold | null;
}

export const PREPROCESSING_FILE = 'preprocessing.json';
export const ANOMALY_FILE = 'anomaly.json';

export function readModelData(folder: string): ModelData {
  const read = <T>(name: string): T | null => {
    const file = path.join(folder, name);
    if (!existsSync(file)) return null;
    try {
      return JSON.parse(readFileSync(file, 'utf8')) as T;
    } catch (e) {
      throw new AeflowError('MODEL_NOT_FOUND', `${file}: not readable JSON (${(e as Error).message})`, 'write the model again with aeflow run');
    }
  };
  const json = read<PreprocessingJson>(PREPROCESSING_FILE);
  return {
    folder,
    preprocessing: json ? Preprocessing.fromJson(json, path.join(folder, PREPROCESSING_FILE)) : null,
    anomaly: read<AnomalyThreshold>(ANOMALY_FILE),
  };
}

/** The threshold rows are flagged above, and where it was read. */
export interface ThresholdChoice extends Pick<AnomalyThreshold, 'threshold' | 'percentile'> {
  /** The file it came from. */
  readonly file: string;
}

/**
 * The threshold the model's rows are flagged above: the one saved with the model (model/anomaly.json), else the
 * one its run's evaluation wrote (RUN/evaluation.json, for models saved before anomaly.json); null when neither is
 * there.
 */
export function anomalyThreshold(data: ModelData): ThresholdChoice | null {
  if (data.anomaly) return { threshold: data.anomaly.threshold, percentile: data.anomaly.percentile, file: path.join(data.folder, ANOMALY_FILE) };
  const file = path.join(path.dirname(path.resolve(data.folder)), 'evaluation.json');
  if (!existsSync(file)) return null;
  try {
    const a = (JSON.parse(readFileSync(file, 'utf8')) as { anomaly?: { threshold?: unknown; percentile?: unknown } }).anomaly;
    return typeof a?.threshold === 'number' && typeof a.percentile === 'number' ? { threshold: a.threshold, percentile: a.percentile, file } : null;
  } catch {
    return null;
  }
}

/** The threshold, or an error saying there is none (for commands that flag rows: score, stream scorers). */
export function requireThreshold(data: ModelData, given: string): ThresholdChoice {
  const t = anomalyThreshold(data);
  if (t) return t;
  throw new AeflowError(
    'MODEL_NOT_FOUND',
    `${given}: no ${path.join('model', ANOMALY_FILE)} (the anomaly threshold saved at the end of training), and no evaluation.json beside the model`,
    'pass the model of a run written by this aeflow (aeflow run saves the threshold with the model), or run aeflow evaluate on it first',
  );
}

/**
 * The input column each of the model's features comes from (`groups[f]`), so a row's error can be put down to
 * columns: a categorical column's one-hot features, and a numeric one's missing-value indicator, count as that
 * column.
 */
export function columnGroups(p: Preprocessing): Int32Array {
  const groups = new Int32Array(p.width);
  const n = p.json.columns.length;
  for (let j = 0; j < n; j++) groups.fill(j, p.offset(j), j + 1 < n ? p.offset(j + 1) : p.width);
  return groups;
}

export async function writeAnomalyThreshold(folder: string, anomaly: AnomalyThreshold): Promise<void> {
  await fs.mkdir(folder, { recursive: true });
  await fs.writeFile(path.join(folder, ANOMALY_FILE), JSON.stringify(anomaly, null, 2) + '\n');
}

/**
 * The reader's column plan for new data read through a model with preprocessing: its columns by name (by number
 * without a header), its categorical ones, and missing values allowed where the preprocessing fills them.
 */
export function preprocessingPlan(p: Preprocessing, header: boolean, labelOptional = true): ColumnPlan {
  const ref = (c: { name: string; column: number }) => (header ? c.name : c.column);
  return {
    features: p.json.columns.map(ref),
    exclude: [],
    categorical: p.json.columns.filter((c) => c.kind === 'categorical').map(ref),
    allowMissing: p.json.missing !== 'error',
    labelOptional,
  };
}

/**
 * A CSV read through a saved model: with the model's preprocessing when it has one, else divided by `scale`.
 * `labelOptional`: a label column the CSV lacks means rows without labels (the label column was not asked for).
 */
export function modelSource(file: string, settings: Omit<DataSource, 'file' | 'columns' | 'preprocessing'>, data: ModelData, labelOptional = true): DataSource {
  const p = data.preprocessing;
  if (!p) return { ...settings, file, columns: { features: null, exclude: [], categorical: [], allowMissing: false, labelOptional } };
  return { ...settings, file, columns: preprocessingPlan(p, settings.header, labelOptional), preprocessing: p, skipMissing: p.json.missing === 'skip' };
}
