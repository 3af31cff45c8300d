import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { imageCsvHeader } from '../../src/sinks/imageCsv.js';
import { tempDir } from '../helpers.js';
import { aeflow } from './cli.js';

describe('aeflow data', () => {
  const tmp = tempDir();
  afterAll(tmp.cleanup);

  it('mnist writes 8,000 + 2,000 rows in the MNIST CSV layout', () => {
    const r = aeflow(['data', 'mnist', '--out', tmp.dir]);
    expect(r.code, r.stderr).toBe(0);
    const train = readFileSync(path.join(tmp.dir, 'mnist_train.csv'), 'utf8').trim().split('\n');
    const test = readFileSync(path.join(tmp.dir, 'mnist_test.csv'), 'utf8').trim().split('\n');
    expect(train).toHaveLength(8001);
    expect(test).toHaveLength(2001);
    expect(train[0]).toBe(imageCsvHeader(28, 28));
    expect(train[0].startsWith('label,1x1,1x2,')).toBe(true);
    expect(train[0].endsWith(',28x27,28x28')).toBe(true);
    const values = train[1].split(',').map(Number);
    expect(values).toHaveLength(785);
    expect(values.every((v) => Number.isInteger(v) && v >= 0 && v <= 255)).toBe(true);
    expect(values[0]).toBeLessThanOrEqual(9);
  });

  it('--if-missing leaves existing files alone', () => {
    const r = aeflow(['data', 'mnist', '--out', tmp.dir, '--if-missing']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('are there; kept (--if-missing)');
    expect(r.stdout).not.toContain('wrote');
  });

  it('fashion-mnist names the Debian package when it is absent', () => {
    const r = aeflow(['data', 'fashion-mnist', '--out', tmp.dir, '--source', path.join(tmp.dir, 'nothing-here')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('error [DATA_PACKAGE_MISSING]');
    expect(r.stderr).toContain('apt-get install dataset-fashion-mnist');
  });
});
