import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { isRedisUrl } from '../sources/streamUrl.js';

/** How a run read its data, for commands that read more data through its model (encode, evaluate). */
export interface RunSettings {
  readonly scale: number | null;
  readonly labelColumn: string | number | null;
  readonly onBadRow: string;
  /** The training CSV as the run named it (resolved), and whether it had a header: its columns are the run's layout. */
  readonly train: string | null;
  readonly header: boolean;
}

interface RunData {
  scale?: number | null;
  label_column?: string | number | null;
  on_bad_row?: string;
  train?: string;
  test?: string;
  header?: boolean;
}

/** data.scale, data.label_column and data.on_bad_row from the run's pipeline.yaml (RUN/model/x -> RUN/pipeline.yaml). */
export function runSettings(modelDir: string): RunSettings {
  for (const up of ['../../pipeline.yaml', '../pipeline.yaml', 'pipeline.yaml']) {
    const file = path.resolve(modelDir, up);
    if (existsSync(file)) {
      const data = (parseYaml(readFileSync(file, 'utf8')) as { data?: RunData })?.data;
      if (data) {
        return {
          scale: data.scale ?? null,
          labelColumn: data.label_column ?? null,
          onBadRow: data.on_bad_row ?? 'error',
          train: layoutFile(data, path.dirname(file)),
          header: data.header ?? true,
        };
      }
    }
  }
  return { scale: 255, labelColumn: 'label', onBadRow: 'error', train: null, header: true };
}

/** The CSV whose columns are the run's layout: the training CSV, or the test CSV of a run trained from a Redis stream. */
function layoutFile(data: RunData, dir: string): string | null {
  const file = typeof data.train === 'string' && isRedisUrl(data.train) ? data.test : data.train;
  return typeof file === 'string' ? path.resolve(dir, file) : null;
}
