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
