import { writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Preprocessing } from '../preprocessing/preprocessing.js';
import type { Snapshot } from '../types.js';
import { tableSnapshot } from './columnErrors.js';
import { writePng } from './imageGrid.js';
import { comparisonImage, type ImageShape, snapshotImage } from './snapshots.js';

/** How a run's rows are shown: as images of a shape, or as a table of the columns a preprocessing names. */
export type RowView = { readonly image: ImageShape } | { readonly table: Preprocessing };

/** snapshots/epoch-NNN.png (a grid of images), or snapshots/epoch-NNN.json (per-column errors and a few rows). */
export function writeSnapshot(view: RowView, dir: string, s: Snapshot, grid: { rows: number; cols: number }): string {
  const name = `epoch-${String(s.epoch).padStart(3, '0')}`;
  if ('image' in view) {
    const file = path.join(dir, `${name}.png`);
    writePng(file, snapshotImage(s, view.image, grid.rows, grid.cols));
    return file;
  }
  const file = path.join(dir, `${name}.json`);
  writeFileSync(file, JSON.stringify(tableSnapshot(s, view.table)) + '\n');
  return file;
}

/** After training: comparison.png (originals above reconstructions), or columns.json for a table. */
export function writeComparison(view: RowView, out: string, final: Snapshot): { name: string; file: string } {
  if ('image' in view) {
    const file = path.join(out, 'comparison.png');
    writePng(file, comparisonImage(final, view.image));
    return { name: 'comparison', file };
  }
  const file = path.join(out, 'columns.json');
  writeFileSync(file, JSON.stringify(tableSnapshot(final, view.table, 10), null, 1) + '\n');
  return { name: 'columns', file };
}
