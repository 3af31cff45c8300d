import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { ColumnError, TableSnapshot } from './columnErrors.js';
import { chartFigure, fmt, table } from './html.js';
import { columnErrorsSvg } from './plots.js';

/** Columns the chart draws: the ones with the largest final errors (more lines than this are unreadable). */
const CHART_COLUMNS = 10;

/**
 * A table run's part of report.html (its rows are no pictures): each column's error over the epochs, from
 * snapshots/*.json, and after training (columns.json) the columns ranked by error in their own units, with a few
 * test rows shown as they were and as the model gave them back. Empty for an image run.
 */
export async function columnsSection(dir: string, chart: (name: string, svg: Promise<string>) => Promise<string>): Promise<string> {
  const finalFile = path.join(dir, 'columns.json');
  if (!existsSync(finalFile)) return '';
  const final = JSON.parse(readFileSync(finalFile, 'utf8')) as TableSnapshot;
  const ranked = [...final.columns].sort((a, b) => b.error - a.error);
  const drawn = new Set(ranked.slice(0, CHART_COLUMNS).map((c) => c.name));
  const points = snapshots(dir).flatMap((s) => s.columns.filter((c) => drawn.has(c.name)).map((c) => ({ epoch: s.epoch, column: c.name, error: c.error })));
  const parts = [`<h2>Columns</h2>`];
  if (points.length > 0) {
    const svg = await chart('columns.svg', columnErrorsSvg(points));
    parts.push(chartFigure(svg, `The ${drawn.size} columns with the largest errors after training, over the epochs (${final.rows} test rows each time).`));
  }
  parts.push(
    `<p>After training, on ${final.rows} test rows: each column's error in model units, and in its own units (numbers: root-mean-square error; categories: the share of rows given back another category).</p>`,
    table(['column', 'kind', '0.5·MSE', 'in its units'], ranked.map(columnRow)),
    `<h3>Test rows, as they were and as reconstructed</h3>`,
    examplesTable(final),
  );
  return parts.join('\n');
}

function columnRow(c: ColumnError): string[] {
  const own = c.kind === 'categorical' ? `${((c.mismatch ?? 0) * 100).toFixed(1)}% wrong` : `RMSE ${fmt(c.rmse)}`;
  return [c.name, c.kind, fmt(c.error), own];
}

/** The first rows of the final snapshot: each as it was (empty where missing) above its reconstruction. */
function examplesTable(final: TableSnapshot): string {
  // A missing number shows as "missing", an empty category as "(empty)": both are values the model reconstructs.
  const cell = (v: number | string | null) => (v === null ? 'missing' : typeof v === 'number' ? String(Number(v.toPrecision(4))) : v === '' ? '(empty)' : v);
  const rows = final.examples.flatMap((e, i) => [
    [`row ${i + 1}`, ...e.original.map(cell)],
    ['reconstructed', ...e.reconstructed.map(cell)],
  ]);
  return `<div class="wide">${table(['', ...final.columns.map((c) => c.name)], rows)}</div>`;
}

function snapshots(dir: string): TableSnapshot[] {
  const folder = path.join(dir, 'snapshots');
  if (!existsSync(folder)) return [];
  return readdirSync(folder)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => JSON.parse(readFileSync(path.join(folder, f), 'utf8')) as TableSnapshot);
}
