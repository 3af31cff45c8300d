import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { aeflow } from '../cli/cli.js';
import { fixture, tempDir } from '../helpers.js';

describe('aeflow evaluate (real worker, tiny CSVs)', () => {
  const tmp = tempDir();
  const run = path.join(tmp.dir, 'run');
  beforeAll(() => {
    const r = aeflow(['run', fixture('tiny.yaml'), '--out', run, '--set', 'train.epochs=30', '--set', 'optimizer.learning_rate=0.1']);
    expect(r.code, r.stderr).toBe(0);
  });
  afterAll(tmp.cleanup);

  const evaluate = (...extra: string[]) =>
    aeflow(['evaluate', '--model', path.join(run, 'model'), '--train', fixture('tiny_train.csv'), '--test', fixture('tiny_test.csv'), ...extra]);

  it('compares the model with PCA of the same code size and flags anomalies above the training percentile', () => {
    // The run evaluated itself at its end: --force refreshes that evaluation.
    const r = evaluate('--percentile', '90', '--force');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('PCA, 4 components');
    const e = JSON.parse(readFileSync(path.join(run, 'evaluation.json'), 'utf8'));
    expect(e).toMatchObject({ code_size: 4, pca_components: 4, train_rows: 96, test_rows: 32 });
    // the model's test loss here is the run's own, measured again through the saved model
    const summary = JSON.parse(readFileSync(path.join(run, 'summary.json'), 'utf8'));
    expect(Math.abs(e.model_test_loss - summary.test_loss) / summary.test_loss).toBeLessThan(1e-3);
    expect(e.model_vs_pca).toBeCloseTo(e.model_test_loss / e.pca_test_loss, 6);
    const rows = readFileSync(e.anomaly.file, 'utf8').trim().split('\n');
    expect(rows[0]).toBe('row,line,label,model_error,pca_error,anomaly');
    const parsed = rows.slice(1).map((l) => l.split(',').map(Number));
    expect(parsed).toHaveLength(32);
    expect(parsed.map((p) => p[1])).toEqual(Array.from({ length: 32 }, (_, i) => i + 2));
    for (const p of parsed) expect(p[5]).toBe(p[3] > e.anomaly.threshold ? 1 : 0);
    expect(parsed.filter((p) => p[5] === 1)).toHaveLength(e.anomaly.flagged);
    const meanModel = parsed.reduce((s, p) => s + p[3], 0) / 32;
    expect(meanModel).toBeCloseTo(e.model_test_loss, 8);
    // Hinton's unit: each row's squared errors summed over its 16 values (0.5·mean × 2 × 16), averaged over rows
    const summed = (column: number) => parsed.reduce((s, p) => s + 2 * 16 * p[column], 0) / 32;
    expect(e.model_sq_error_per_row).toBeCloseTo(summed(3), 5);
    expect(e.pca_sq_error_per_row).toBeCloseTo(summed(4), 5);
    expect(r.stdout).toMatch(/squared error per row/);
  });

  it('probes: logistic regression and 5-NN on raw values, PCA codes and the model codes, scored on the test rows', () => {
    const e = JSON.parse(readFileSync(path.join(run, 'evaluation.json'), 'utf8'));
    expect(e.probes).toMatchObject({ k: 5, classes: 8 });
    // eight bar patterns: raw pixels separate them perfectly
    expect(e.probes.raw.logistic).toBeGreaterThan(0.9);
    expect(e.probes.raw.knn).toBeGreaterThan(0.9);
    for (const s of [e.probes.pca, e.probes.model]) {
      for (const a of [s.logistic, s.knn]) {
        expect(a).toBeGreaterThanOrEqual(0);
        expect(a).toBeLessThanOrEqual(1);
        // a multiple of 1/32: a real accuracy on the 32 test rows
        expect(Math.abs(a * 32 - Math.round(a * 32))).toBeLessThan(1e-9);
      }
    }
  });

  it('PCA with every component reconstructs the test rows almost exactly', () => {
    const r = evaluate('--components', '16', '--out', path.join(tmp.dir, 'full'), '--no-probes');
    expect(r.code, r.stderr).toBe(0);
    const e = JSON.parse(readFileSync(path.join(tmp.dir, 'full', 'evaluation.json'), 'utf8'));
    expect(e.pca_test_loss).toBeLessThan(1e-10);
    expect(e.probes).toBeNull();
  });

  it('holds a bounded sample of a large test split: what it keeps does not grow with the file, and anomalies.csv has every row', () => {
    const lines = readFileSync(fixture('tiny_test.csv'), 'utf8').trim().split('\n');
    const held = (copies: number) => {
      const file = path.join(tmp.dir, `test-x${copies}.csv`);
      writeFileSync(file, [lines[0], ...Array.from({ length: copies }, () => lines.slice(1)).flat()].join('\n') + '\n');
      const out = path.join(tmp.dir, `held-x${copies}`);
      const r = aeflow([
        'evaluate',
        '--model',
        path.join(run, 'model'),
        '--train',
        fixture('tiny_train.csv'),
        '--test',
        file,
        '--out',
        out,
        '--test-rows',
        '50',
      ]);
      expect(r.code, r.stderr).toBe(0);
      const e = JSON.parse(readFileSync(path.join(out, 'evaluation.json'), 'utf8'));
      expect(readFileSync(path.join(out, 'anomalies.csv'), 'utf8').trim().split('\n')).toHaveLength(32 * copies + 1);
      return e;
    };
    const small = held(4);
    const large = held(40);
    for (const [e, rows] of [
      [small, 128],
      [large, 1280],
    ] as const) {
      expect(e.test_rows).toBe(rows);
      expect(e.sample).toMatchObject({ held: 50, of: rows, complete: false });
      expect(e.probes.test_rows).toBe(50);
    }
    expect(small.sample.bytes).toBeGreaterThan(50 * 16 * 4);
    expect(large.sample.bytes).toBe(small.sample.bytes);
  });

  it('the anomaly threshold from the sketch lies within its stated bound of the exact percentile of the training errors', () => {
    // With the training split as the test split, anomalies.csv holds every training row's error.
    const out = path.join(tmp.dir, 'threshold');
    const r = aeflow([
      'evaluate',
      '--model',
      path.join(run, 'model'),
      '--train',
      fixture('tiny_train.csv'),
      '--test',
      fixture('tiny_train.csv'),
      '--out',
      out,
      '--percentile',
      '80',
      '--no-probes',
    ]);
    expect(r.code, r.stderr).toBe(0);
    const e = JSON.parse(readFileSync(path.join(out, 'evaluation.json'), 'utf8'));
    const errors = readFileSync(path.join(out, 'anomalies.csv'), 'utf8')
      .trim()
      .split('\n')
      .slice(1)
      .map((l) => Number(l.split(',')[3]))
      .sort((a, b) => a - b);
    expect(errors).toHaveLength(96);
    // The sketch's rank: the 0.8·(n − 1)-th smallest.
    const exact = errors[Math.floor(0.8 * (errors.length - 1))];
    expect(e.anomaly.relative_accuracy).toBe(0.01);
    expect(Math.abs(e.anomaly.threshold - exact)).toBeLessThanOrEqual(0.01 * exact);
    expect(e.anomaly.threshold).not.toBe(errors[errors.length - 1]);
  });

  it('bad arguments and a wrong width are clear errors', () => {
    expect(evaluate('--percentile', '0').stderr).toContain('--percentile 0');
    const wide = evaluate('--label-column', 'none', '--out', path.join(tmp.dir, 'wide'));
    expect(wide.code).toBe(1);
    expect(wide.stderr).toContain('error [MODEL_INPUT_MISMATCH]');
  });
});
