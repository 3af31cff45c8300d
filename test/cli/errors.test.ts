import { describe, expect, it } from 'vitest';
import { fixture, tempDir } from '../helpers.js';
import { aeflow } from './cli.js';

// Bad input ends with a coded message naming file, line and column, a non-zero exit, and no stack trace.
describe('aeflow run on bad input', () => {
  const tiny = fixture('tiny.yaml');
  const run = (...sets: string[]) => {
    const tmp = tempDir();
    try {
      return aeflow(['run', tiny, '--out', tmp.dir, '--force', '--set', 'train.epochs=1', ...sets.flatMap((s) => ['--set', s])]);
    } finally {
      tmp.cleanup();
    }
  };
  const noStack = (text: string) => expect(text).not.toMatch(/^\s+at /m);

  it('a value that is not a number', () => {
    const r = run(`data.train=${fixture('bad_value.csv')}`, `data.test=${fixture('bad_value.csv')}`, 'model.encoder=[3, 2]');
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('error [CSV_VALUE_INVALID]');
    expect(r.stderr).toContain('bad_value.csv:3:3: column 3 ("b") holds "abc", expected a finite number');
    expect(r.stderr).toContain('hint:');
    noStack(r.stderr);
  });

  it('a row with the wrong number of columns', () => {
    const r = run(`data.train=${fixture('bad_columns.csv')}`, `data.test=${fixture('bad_columns.csv')}`, 'model.encoder=[3, 2]');
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('bad_columns.csv:3: row has 3 columns, expected 4');
    noStack(r.stderr);
  });

  it('a pixel outside 0-255', () => {
    const r = run(`data.train=${fixture('bad_range.csv')}`, `data.test=${fixture('bad_range.csv')}`, 'model.encoder=[3, 2]');
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('error [CSV_VALUE_OUT_OF_RANGE]');
    expect(r.stderr).toContain('bad_range.csv:3:4: column 4 ("c") holds 300, expected a value from 0 to 255');
  });

  it('a missing file and an empty file', () => {
    const missing = run('data.test=nowhere/test.csv');
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/error \[CSV_NOT_FOUND\]: .*nowhere\/test\.csv: no such file/);
    const empty = run(`data.train=${fixture('empty.csv')}`);
    expect(empty.stderr).toContain('error [CSV_EMPTY]');
    noStack(empty.stderr);
  });

  it('--verbose adds the stack', () => {
    const tmp = tempDir();
    const r = aeflow(['run', tiny, '--out', tmp.dir, '--force', '--verbose', '--set', 'data.test=nowhere.csv']);
    tmp.cleanup();
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^\s+at /m);
  });

  it('usage mistakes exit 2', () => {
    expect(aeflow(['run']).code).toBe(2);
    expect(aeflow(['frobnicate']).stderr).toContain('unknown command "frobnicate"');
    expect(aeflow(['run', tiny, '--epochs', '3']).stderr).toContain("Unknown option '--epochs'");
  });

  it('validate reports an invalid pipeline with its line and exit 1', () => {
    const r = aeflow(['validate', fixture('bad_unknown_key.yaml')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('bad_unknown_key.yaml:12:3: train.epoch: unknown key "epoch"');
    const ok = aeflow(['validate', tiny]);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toContain('valid');
  });
});
