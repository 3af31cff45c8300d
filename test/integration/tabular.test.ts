import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readLayersModel } from '../../src/models/files.js';
import { DenseStack } from '../../src/models/denseStack.js';
import type { PreprocessingJson } from '../../src/preprocessing/preprocessing.js';
import { Random } from '../../src/random.js';
import { aeflow } from '../cli/cli.js';
import { tempDir } from '../helpers.js';

const CHROMIUM = '/usr/bin/chromium';
const haveBrowser = existsSync(CHROMIUM) || Boolean(process.env.CI);
const COLORS = ['red', 'green', 'blue'];

/**
 * A table unlike pixels: an id, two correlated measurements, a third on a scale a thousand times smaller and
 * independent of them, a colour (amber rare, violet only where asked for), and empty fields. The first
 * `outliers` rows with a ratio (marked in an `outlier` column, when asked for) have a ratio fifty times too large.
 */
function table(rows: number, seed: number, options: { outliers?: number; unseenColor?: boolean; outlierColumn?: boolean } = {}): string {
  const random = new Random(seed);
  const lines = [['id', 'size', 'ratio', 'color', 'weight', ...(options.outlierColumn ? ['outlier'] : [])].join(',')];
  let outliers = options.outliers ?? 0;
  for (let i = 0; i < rows; i++) {
    const size = 100 + 900 * random.next();
    const missing = i % 5 === 4;
    const outlier = !missing && outliers-- > 0;
    const color = options.unseenColor && i % 7 === 0 ? 'violet' : i % 11 === 0 ? 'amber' : COLORS[Math.floor(random.next() * 3)];
    const ratio = 0.001 + 0.001 * random.next();
    const weight = (2 * size + 50 * random.next()).toFixed(2);
    const cells = [`row-${i}`, size.toFixed(2), missing ? '' : (outlier ? 50 * ratio : ratio).toFixed(6), color, weight];
    lines.push([...cells, ...(options.outlierColumn ? [outlier ? '1' : '0'] : [])].join(','));
  }
  return lines.join('\n') + '\n';
}

const PIPELINE = `
seed: 0
data:
  train: train.csv
  test: test.csv
  label_column: null
  exclude: [id]
  normalize: standard
  missing: mean
  missing_indicators: true
  categorical: [color]
  max_categories: 3
stages:
  - type: batch
    size: 32
model:
  type: dense-autoencoder
  encoder: [auto, 8, 3]
  activation: relu
  code_activation: linear
  output_activation: linear
  init: he-uniform
optimizer:
  learning_rate: 0.01
train:
  epochs: 4
snapshots:
  every: 2
`;

/** Parses the CSVs aeflow writes (numbers, a header line). */
function readNumbers(file: string): { header: string[]; rows: number[][] } {
  const [head, ...lines] = readFileSync(file, 'utf8').trim().split('\n');
  return { header: head.split(','), rows: lines.map((l) => l.split(',').map(Number)) };
}

/** preprocessing.json applied by hand, from its definition: what every consumer must compute for a CSV line. */
function features(p: PreprocessingJson, header: string[], cells: string[]): number[] {
  return p.columns.flatMap((c) => {
    const text = cells[header.indexOf(c.name)];
    if (c.kind === 'categorical') {
      const at = c.values.indexOf(text);
      return [...c.values.map((_, k) => (k === at ? 1 : 0)), at < 0 ? 1 : 0];
    }
    const missing = text === '';
    const value = missing ? (c.fill as number) : Number(text);
    return [(value - c.shift) / c.scale, ...(c.indicator ? [missing ? 1 : 0] : [])];
  });
}

describe('a tabular run: columns by name, standardized, missing values filled and flagged, a categorical column', () => {
  const tmp = tempDir();
  const run = path.join(tmp.dir, 'run');
  const file = (name: string) => path.join(tmp.dir, name);
  let stdout = '';
  beforeAll(() => {
    writeFileSync(file('train.csv'), table(400, 1));
    writeFileSync(file('test.csv'), table(100, 2, { unseenColor: true }));
    writeFileSync(file('scored.csv'), table(100, 3, { outliers: 10, outlierColumn: true }));
    writeFileSync(file('table.yaml'), PIPELINE);
    const r = aeflow(['run', file('table.yaml'), '--out', run]);
    expect(r.code, r.stderr).toBe(0);
    stdout = r.stdout;
  });
  afterAll(tmp.cleanup);

  it('fits the preprocessing on the training split and saves it with the run and the model', () => {
    const saved = readFileSync(path.join(run, 'model', 'preprocessing.json'), 'utf8');
    expect(readFileSync(path.join(run, 'preprocessing.json'), 'utf8')).toBe(saved);
    const p = JSON.parse(saved) as PreprocessingJson;
    expect(p.columns.map((c) => c.name)).toEqual(['size', 'ratio', 'color', 'weight']);
    // Three kept colours, the most frequent first (amber, the rarest, is "other"), an indicator after each number.
    const colors = p.features.slice(4, 7);
    expect([...colors].sort()).toEqual(['color=blue', 'color=green', 'color=red']);
    expect(p.features).toEqual(['size', 'size?', 'ratio', 'ratio?', ...colors, 'color=other', 'weight', 'weight?']);
    expect(stdout).toContain('preprocessing: 4 columns -> 10 features (standard, missing mean)');
    const train = readFileSync(file('train.csv'), 'utf8').trim().split('\n').slice(1);
    const sizes = train.map((l) => Number(l.split(',')[1]));
    const mean = sizes.reduce((a, b) => a + b, 0) / sizes.length;
    const size = p.columns[0];
    expect(size.kind === 'numeric' && size.shift).toBeCloseTo(mean, 6);
  });

  it('saves the anomaly threshold with the model: the evaluation’s, at anomaly.percentile', () => {
    const anomaly = JSON.parse(readFileSync(path.join(run, 'model', 'anomaly.json'), 'utf8'));
    const evaluation = JSON.parse(readFileSync(path.join(run, 'evaluation.json'), 'utf8'));
    expect(anomaly).toEqual({ percentile: 99, threshold: evaluation.anomaly.threshold, relative_accuracy: 0.01, training_rows: 400 });
  });

  it('writes per-column snapshots and columns.json, and no pictures of 10 numbers', () => {
    expect(existsSync(path.join(run, 'comparison.png'))).toBe(false);
    const snapshots = readdirSync(path.join(run, 'snapshots'));
    expect(snapshots).toEqual(['epoch-002.json', 'epoch-004.json']);
    const columns = JSON.parse(readFileSync(path.join(run, 'columns.json'), 'utf8'));
    expect(columns.columns.map((c: { name: string }) => c.name)).toEqual(['size', 'ratio', 'color', 'weight']);
    expect(columns.rows).toBe(100);
    // Test rows shown as the CSV has them: the id left out, the colour by name (violet, never seen, is "other"),
    // a missing ratio as null.
    const lines = readFileSync(file('test.csv'), 'utf8').split('\n');
    const [first, fifth] = [lines[1].split(','), lines[5].split(',')];
    expect(columns.examples[0].original).toEqual([Number(first[1]), Number(first[2]), 'other', Number(first[4])]);
    expect(fifth[2]).toBe('');
    expect(columns.examples[4].original[1]).toBeNull();
  });

  it('encode applies the saved preprocessing exactly: its codes are the encoder’s on the features computed by hand', async () => {
    const r = aeflow(['encode', '--model', path.join(run, 'model'), '--input', file('test.csv'), '--out', file('codes.csv')]);
    expect(r.code, r.stderr).toBe(0);
    const p = JSON.parse(readFileSync(path.join(run, 'model', 'preprocessing.json'), 'utf8')) as PreprocessingJson;
    const [head, ...lines] = readFileSync(file('test.csv'), 'utf8').trim().split('\n');
    const x = lines.map((l) => features(p, head.split(','), l.split(',')));
    await tf.setBackend('cpu');
    const encoder = DenseStack.fromFiles(await readLayersModel(path.join(run, 'model', 'encoder')), 'encoder');
    const expected = encoder.apply(tf.tensor2d(x)).arraySync();
    encoder.dispose();
    const codes = readNumbers(file('codes.csv'));
    expect(codes.header).toEqual(['z1', 'z2', 'z3']);
    expect(codes.rows.length).toBe(100);
    for (const [i, row] of codes.rows.entries()) {
      for (const [j, z] of row.entries()) expect(z).toBeCloseTo(expected[i][j], 5);
    }
  });

  it('score gives every row the error the run’s evaluation gave it, and names the columns behind it', () => {
    const r = aeflow(['score', '--model', run, '--input', file('test.csv'), '--out', file('scores.csv')]);
    expect(r.code, r.stderr).toBe(0);
    const scores = readFileSync(file('scores.csv'), 'utf8').trim().split('\n');
    const anomalies = readNumbers(path.join(run, 'anomalies.csv'));
    expect(scores[0]).toBe('row,line,error,anomaly,column_1,share_1,column_2,share_2,column_3,share_3');
    const errorAt = anomalies.header.indexOf('model_error');
    scores.slice(1).forEach((line, i) => {
      const cells = line.split(',');
      expect(Number(cells[2])).toBeCloseTo(anomalies.rows[i][errorAt], 7);
      expect(['size', 'ratio', 'color', 'weight']).toContain(cells[4]);
    });
  });

  it('score with --anomaly-label: rows with a ratio fifty times too large rank first (ROC-AUC near 1), the ratio named behind them', () => {
    const r = aeflow([
      'score',
      '--model',
      run,
      '--input',
      file('scored.csv'),
      '--out',
      file('scored-out.csv'),
      '--label-column',
      'outlier',
      '--anomaly-label',
      '1',
    ]);
    expect(r.code, r.stderr).toBe(0);
    const auc = Number(/ROC-AUC ([\d.]+)/.exec(r.stdout)?.[1]);
    expect(auc).toBeGreaterThan(0.95);
    const rows = readFileSync(file('scored-out.csv'), 'utf8').trim().split('\n').slice(1);
    const outliers = rows.filter((line) => line.split(',')[2] === '1');
    expect(outliers).toHaveLength(10);
    // row,line,label,error,anomaly,column_1: the ratio is what went wrong.
    for (const line of outliers) expect(line.split(',')[5]).toBe('ratio');
  });

  it.skipIf(!haveBrowser)('report.html in headless Chromium: no image grid, the per-column chart and tables', async () => {
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu', '--no-first-run'] });
    try {
      const page = await browser.newPage();
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(String(e)));
      await page.goto(`file://${path.join(run, 'report.html')}`, { waitUntil: 'load' });
      expect(errors).toEqual([]);
      expect(await page.$$('img')).toHaveLength(0);
      const headings = await page.$$eval('h2', (all) => all.map((h) => h.textContent));
      expect(headings).toContain('Columns');
      expect(headings).not.toContain('Reconstructions');
      const captions = await page.$$eval('figure.chart figcaption', (all) => all.map((c) => c.textContent ?? ''));
      expect(captions.some((c) => c.startsWith('The 4 columns with the largest errors after training, over the epochs'))).toBe(true);
      const cells = await page.$$eval('table tr td:first-child', (all) => all.map((c) => c.textContent));
      expect(cells).toContain('reconstructed');
    } finally {
      await browser.close();
    }
  });
});
