import { DDSketch } from '@datadog/sketches-js';
import type { Inference } from '../workers/inference.js';
import type { DataSource } from './dataflow.js';
import type { AnomalyThreshold } from './modelData.js';
import { type PassOptions, streamBatches } from './passes.js';

/** Relative accuracy of the anomaly threshold: the sketch's value lies within 1% of the exact percentile. */
export const THRESHOLD_ACCURACY = 0.01;

/** The errors of a split's rows, in a sketch of bounded size from which any percentile can be read. */
export function errorSketch(): DDSketch {
  return new DDSketch({ relativeAccuracy: THRESHOLD_ACCURACY });
}

export function thresholdOf(sketch: DDSketch, percentile: number): AnomalyThreshold {
  return {
    percentile,
    threshold: sketch.getValueAtQuantile(percentile / 100),
    relative_accuracy: THRESHOLD_ACCURACY,
    training_rows: sketch.count,
  };
}

/**
 * The anomaly threshold on its own: one pass of the model over the training split, every row's error into the
 * sketch. A run makes it when no evaluation does (the evaluation's training pass gives it on the way).
 */
export async function fitThreshold(
  inference: Inference,
  train: DataSource,
  percentile: number,
  pass: Omit<PassOptions, 'name'> = {},
): Promise<AnomalyThreshold> {
  const sketch = errorSketch();
  await streamBatches(inference, train, { ...pass, name: 'training split: anomaly threshold' }, async (b) => {
    for (const e of await inference.errors(b.x, b.rows, false)) sketch.accept(e);
  });
  return thresholdOf(sketch, percentile);
}
