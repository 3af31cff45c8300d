import type { ColumnPlan } from '../sources/rowBuilder.js';
import type { Pipeline } from './schema.js';

/** The reader's column plan of a pipeline: which columns are features, which categorical, whether values may be missing. */
export function columnPlan(config: Pipeline): ColumnPlan {
  const { data } = config;
  return { features: data.features, exclude: data.exclude, categorical: data.categorical, allowMissing: data.missing !== 'error' };
}

/**
 * Whether the pipeline's rows need fitted preprocessing (per-column normalization, missing values, categorical
 * columns) rather than the plain division by data.scale of image pipelines.
 */
export function needsPreprocessing(config: Pipeline): boolean {
  const { data } = config;
  return data.normalize !== 'scale' || data.categorical.length > 0 || data.missing !== 'error' || data.missing_indicators;
}
