import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { fixture, repoRoot, tempDir } from '../helpers.js';
import { aeflow } from './cli.js';

const tmp = tempDir();
afterAll(tmp.cleanup);
const tiny = fixture('tiny.yaml');

describe('hints point the right way', () => {
  it('a CSV path from --set is shown as typed, relative to the working folder, not to the YAML file', () => {
    const r = aeflow(['validate', tiny, '--set', 'data.train=nope/train.csv'], tmp.dir);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('error [CSV_NOT_FOUND]: nope/train.csv: no such file (--set data.train=nope/train.csv)');
    expect(r.stderr).toContain(`hint: a path given with --set is relative to the working folder (${tmp.dir})`);
    expect(r.stderr).not.toContain('YAML');
  });

  it('a CSV path written in the YAML gets the YAML hint, with its line', () => {
    const dir = path.join(tmp.dir, 'pipelines');
    mkdirSync(dir);
    writeFileSync(path.join(dir, 'p.yaml'), readFileSync(tiny, 'utf8').replace('train: tiny_train.csv', 'train: ../data/missing.csv'));
    const r = aeflow(['validate', 'pipelines/p.yaml'], tmp.dir);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^error \[CSV_NOT_FOUND\]: pipelines\/p\.yaml:\d+:\d+: data\.train: \.\.\/data\/missing\.csv: no such file/m);
    expect(r.stderr).toContain("hint: a path in the pipeline is relative to the YAML file's folder (pipelines/)");
  });

  it('config errors cite a README section that exists', () => {
    const r = aeflow(['validate', fixture('bad_unknown_key.yaml')]);
    const section = /README "([^"]+)"/.exec(r.stderr)?.[1];
    expect(section).toBeDefined();
    expect(readFileSync(path.join(repoRoot, 'README.md'), 'utf8').split('\n')).toContain(`## ${section}`);
  });

  it('a value outside a fixed set is shown as given', () => {
    const r = aeflow(['validate', tiny, '--no-data', '--set', 'model.activation=sigmod', '--set', 'loss=halfmse']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('--set model.activation=sigmod: model.activation: unknown value "sigmod"; expected one of sigmoid, relu, tanh, elu, linear');
    expect(r.stderr).toContain('--set loss=halfmse: loss: unknown value "halfmse"; expected one of half-mse, mse, binary-crossentropy');
  });

  it('a row with the wrong number of columns says it can be skipped', () => {
    const csv = fixture('bad_columns.csv');
    const args = ['--set', `data.train=${csv}`, '--set', `data.test=${csv}`, '--set', 'model.encoder=[3, 2]', '--set', 'train.epochs=1'];
    const r = aeflow(['run', tiny, '--out', path.join(tmp.dir, 'run'), '--force', ...args, '--set', `cache.dir=${path.join(tmp.dir, 'cache')}`]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('error [CSV_ROW_INVALID]');
    expect(r.stderr).toMatch(/^hint: .*data\.on_bad_row: skip/m);
  });
});

describe('--backend', () => {
  it('is checked the same way by every command that takes it', () => {
    const errors = [
      ['run', tiny],
      ['encode', '--model', 'm', '--input', 'x.csv', '--out', path.join(tmp.dir, 'never.csv')],
      ['evaluate', '--model', 'm', '--train', 'x.csv', '--test', 'y.csv', '--out', path.join(tmp.dir, 'never')],
    ].map((command) => aeflow([...command, '--backend', 'gpu']));
    for (const r of errors) {
      expect(r.code).toBe(2);
      expect(r.stderr).toBe('error [USAGE]: --backend gpu: unknown backend\nhint: choose auto, tensorflow, wasm, cpu\n');
    }
  });
});
