import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixture, tempDir } from '../helpers.js';
import { aeflow } from './cli.js';

const tmp = tempDir();
afterAll(tmp.cleanup);
const run = path.join(tmp.dir, 'run');
const train = fixture('tiny_train.csv');
const test = fixture('tiny_test.csv');
beforeAll(() => {
  const r = aeflow(['run', fixture('tiny.yaml'), '--out', run, '--set', 'train.epochs=2', '--set', `cache.dir=${path.join(tmp.dir, 'cache')}`]);
  expect(r.code, r.stderr).toBe(0);
});

/** A file's bytes and modification time: "untouched" means both are the same. */
const state = (file: string) => ({ text: readFileSync(file, 'utf8'), mtime: statSync(file).mtimeMs });

/** Expects a refused overwrite: exit 2, the coded error naming --force, the files as they were. */
function refused(r: ReturnType<typeof aeflow>, files: string[], before: Array<ReturnType<typeof state>>): void {
  expect(r.code, r.stderr).toBe(2);
  expect(r.stderr).toMatch(/^error \[OUTPUT_EXISTS\]: .* aeflow overwrites nothing without --force$/m);
  expect(r.stderr).toMatch(/^hint: add --force to /m);
  expect(files.map(state)).toEqual(before);
}

describe('one overwrite policy: nothing is overwritten without --force', () => {
  it('encode --out over an existing file', () => {
    const out = path.join(tmp.dir, 'features.csv');
    writeFileSync(out, 'keep me\n');
    const before = [state(out)];
    refused(aeflow(['encode', '--model', path.join(run, 'model'), '--input', test, '--out', out]), [out], before);
    const forced = aeflow(['encode', '--model', path.join(run, 'model'), '--input', test, '--out', out, '--force']);
    expect(forced.code, forced.stderr).toBe(0);
    expect(readFileSync(out, 'utf8').split('\n')[0]).toBe('label,z1,z2,z3,z4');
  });

  it("evaluate over the run's own evaluation: --force refreshes it", () => {
    const files = ['evaluation.json', 'anomalies.csv'].map((f) => path.join(run, f));
    const before = files.map(state);
    const r = aeflow(['evaluate', '--model', path.join(run, 'model'), '--train', train, '--test', test]);
    refused(r, files, before);
    expect(r.stderr).toContain("add --force to refresh the run's evaluation");
    const forced = aeflow(['evaluate', '--model', path.join(run, 'model'), '--train', train, '--test', test, '--force', '--no-probes']);
    expect(forced.code, forced.stderr).toBe(0);
    // The run's evaluation had probes; the refreshed one, asked for none, has none.
    expect(JSON.parse(before[0].text).probes).not.toBeNull();
    expect(JSON.parse(readFileSync(files[0], 'utf8')).probes).toBeNull();
  });

  it('evaluate --out DIR over an earlier evaluation', () => {
    const out = path.join(tmp.dir, 'evaluation');
    const first = aeflow(['evaluate', '--model', path.join(run, 'model'), '--train', train, '--test', test, '--out', out, '--no-probes']);
    expect(first.code, first.stderr).toBe(0);
    const files = ['evaluation.json', 'anomalies.csv'].map((f) => path.join(out, f));
    const before = files.map(state);
    refused(aeflow(['evaluate', '--model', path.join(run, 'model'), '--train', train, '--test', test, '--out', out, '--no-probes']), files, before);
    expect(aeflow(['evaluate', '--model', path.join(run, 'model'), '--train', train, '--test', test, '--out', out, '--no-probes', '--force']).code).toBe(0);
  });

  it('data mnist over existing CSVs; --if-missing keeps them', () => {
    const out = path.join(tmp.dir, 'data');
    mkdirSync(out);
    const files = ['mnist_train.csv', 'mnist_test.csv'].map((f) => path.join(out, f));
    for (const f of files) writeFileSync(f, 'label,1x1\n0,0\n');
    const before = files.map(state);
    refused(aeflow(['data', 'mnist', '--out', out]), files, before);
    const kept = aeflow(['data', 'mnist', '--out', out, '--if-missing']);
    expect(kept.code).toBe(0);
    expect(files.map(state)).toEqual(before);
    const forced = aeflow(['data', 'mnist', '--out', out, '--force']);
    expect(forced.code, forced.stderr).toBe(0);
    expect(readFileSync(files[1], 'utf8').trim().split('\n')).toHaveLength(2001);
  });

  it('run --out into a folder that holds files', () => {
    const summary = path.join(run, 'summary.json');
    const before = [state(summary)];
    const args = ['run', fixture('tiny.yaml'), '--out', run, '--set', 'train.epochs=1', '--set', 'outputs.evaluate=false'];
    const r = aeflow(args);
    refused(r, [summary], before);
    expect(r.stderr).toContain('already holds files');
    expect(aeflow([...args, '--force']).code).toBe(0);
    expect(JSON.parse(readFileSync(summary, 'utf8')).epochs).toBe(1);
  });
});

describe('--model takes the run folder as README writes RUN/model', () => {
  it('encode and evaluate accept the run folder itself', () => {
    const out = path.join(tmp.dir, 'codes-from-run.csv');
    const viaRun = aeflow(['encode', '--model', run, '--input', test, '--out', out]);
    expect(viaRun.code, viaRun.stderr).toBe(0);
    const viaModel = path.join(tmp.dir, 'codes-from-model.csv');
    expect(aeflow(['encode', '--model', path.join(run, 'model'), '--input', test, '--out', viaModel]).code).toBe(0);
    expect(readFileSync(out, 'utf8')).toBe(readFileSync(viaModel, 'utf8'));
    const evaluated = aeflow(['evaluate', '--model', run, '--train', train, '--test', test, '--out', path.join(tmp.dir, 'from-run'), '--no-probes']);
    expect(evaluated.code, evaluated.stderr).toBe(0);
    expect(existsSync(path.join(tmp.dir, 'from-run', 'evaluation.json'))).toBe(true);
  });

  it('a folder that is neither is MODEL_NOT_FOUND, naming both forms', () => {
    for (const command of [
      ['encode', '--input', test, '--out', path.join(tmp.dir, 'never.csv')],
      ['evaluate', '--train', train, '--test', test],
    ]) {
      const r = aeflow([...command, '--model', tmp.dir]);
      expect(r.code, command[0]).toBe(1);
      expect(r.stderr).toContain('error [MODEL_NOT_FOUND]');
      expect(r.stderr).toContain('runs/mnist or runs/mnist/model');
    }
  });
});

describe('paths given to encode and evaluate', () => {
  it('a missing CSV is shown as typed, relative to the working folder, with no word of a YAML file', () => {
    const encode = aeflow(['encode', '--model', run, '--input', 'nowhere/x.csv', '--out', path.join(tmp.dir, 'never.csv')], tmp.dir);
    const evaluate = aeflow(['evaluate', '--model', run, '--train', 'nowhere/x.csv', '--test', test, '--out', path.join(tmp.dir, 'never')], tmp.dir);
    for (const r of [encode, evaluate]) {
      expect(r.code).toBe(1);
      expect(r.stderr).toContain('error [CSV_NOT_FOUND]: nowhere/x.csv: no such file');
      expect(r.stderr).toContain(`relative to the working folder (${tmp.dir})`);
      expect(r.stderr).not.toContain('YAML');
    }
  });

  it('encode reports one skipped row in the singular', () => {
    const bad = path.join(tmp.dir, 'one-bad.csv');
    const lines = readFileSync(test, 'utf8').trim().split('\n');
    writeFileSync(bad, [...lines.slice(0, 3), '1,2,3', ...lines.slice(3)].join('\n') + '\n');
    const r = aeflow(['encode', '--model', run, '--input', bad, '--out', path.join(tmp.dir, 'one-bad-codes.csv'), '--on-bad-row', 'skip']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('encode: skipped 1 bad row (on_bad_row: skip), at line 4: ');
  });
});
