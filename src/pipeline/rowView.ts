import type { LoadedPipeline } from '../config/load.js';
import { models } from '../models/builtins.js';
import { Preprocessing } from '../preprocessing/preprocessing.js';
import type { RowView } from '../sinks/snapshotFiles.js';
import { trainingShape } from './dataflow.js';

export type { RowView } from '../sinks/snapshotFiles.js';

/** Test rows a table's snapshots reconstruct: enough for per-column errors that are not noise, cheap to decode. */
export const TABLE_PREVIEW_ROWS = 256;

/**
 * Whether the run's rows are pictures or a table: images when data.image gives their shape or, without fitted
 * preprocessing, when the feature count is a square (MNIST's 784); a table otherwise, named by the CSV's header.
 */
export async function rowView(loaded: LoadedPipeline): Promise<RowView> {
  const { config, preprocessing } = loaded;
  if (config.data.image) return { image: config.data.image };
  if (preprocessing) return { table: preprocessing };
  const width = models.get(config.model.type).inputWidth(config.model);
  const side = Math.round(Math.sqrt(width));
  if (side * side === width) return { image: { width: side, height: side } };
  const { origin } = await trainingShape(config);
  const names = origin.featureColumns.map((c) => origin.header?.[c] ?? `column ${c + 1}`);
  return {
    table: Preprocessing.identity(
      names,
      origin.featureColumns.map((c) => c + 1),
      config.data.scale,
    ),
  };
}
