import { readdirSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkAgainstData, loadPipeline, parseSet } from '../../src/config/load.js';
import { fixture } from '../helpers.js';

const failure = (p: Promise<unknown>) =>
  p.then(
    () => null,
    (e) => e,
  );

describe('loadPipeline', () => {
  it('loads a good pipeline with defaults filled in and paths resolved against the YAML file', async () => {
    const loaded = await loadPipeline(fixture('tiny.yaml'));
    const { config } = loaded;
    expect(loaded.name).toBe('tiny');
    expect(config.data.train).toBe(fixture('tiny_train.csv'));
    expect(config.data.header).toBe(true);
    expect(config.optimizer).toEqual({ type: 'adam', learning_rate: 0.02, beta1: 0.9, beta2: 0.999, epsilon: 1e-8 });
    expect(config.loss).toBe('half-mse');
    expect(config.stages).toEqual([
      { type: 'shuffle', window: 32 },
      { type: 'batch', size: 16 },
    ]);
    expect(config.train.workers).toBe(1);
    expect(await checkAgainstData(loaded)).toEqual({ width: 16 });
  });

  it("the reference pipeline is the brief's configuration", async () => {
    const { config } = await loadPipeline(path.join(fixture('..'), '..', 'pipelines', 'mnist.yaml'));
    expect(config.model).toMatchObject({ type: 'dense-autoencoder', encoder: [784, 256, 128, 100], activation: 'sigmoid', init: 'torch' });
    expect(config.optimizer).toMatchObject({ type: 'adam', learning_rate: 0.01 });
    expect(config.stages).toEqual([
      { type: 'shuffle', window: 10000 },
      { type: 'batch', size: 256 },
    ]);
    expect(config.loss).toBe('half-mse');
    expect(config.seed).toBe(0);
    expect(config.train).toMatchObject({ epochs: 10, log_every: 2 });
    expect(config.snapshots).toEqual({ every: 2, rows: 3, cols: 5 });
  });

  it('every pipeline in pipelines/ is valid', async () => {
    const dir = path.join(fixture('..'), '..', 'pipelines');
    const files = readdirSync(dir).filter((f) => f.endsWith('.yaml'));
    expect(files.length).toBeGreaterThanOrEqual(5);
    for (const f of files) await expect(loadPipeline(path.join(dir, f)), f).resolves.toBeDefined();
  });

  it('an unknown key fails with its YAML line', async () => {
    const e = await failure(loadPipeline(fixture('bad_unknown_key.yaml')));
    expect(e.code).toBe('CONFIG_INVALID');
    expect(e.message).toContain('bad_unknown_key.yaml:12:3: train.epoch: unknown key "epoch"');
  });

  it('a batch of 0 fails at its line', async () => {
    const e = await failure(loadPipeline(fixture('bad_batch_zero.yaml')));
    expect(e.message).toContain('bad_batch_zero.yaml:8:5: stages[1].size');
    expect(e.message).toMatch(/>=1/);
  });

  it('lists every problem: unknown stage type, impossible layer sizes, wrong types', async () => {
    const e = await failure(loadPipeline(fixture('bad_types.yaml')));
    expect(e.message).toContain('has 3 problems');
    expect(e.message).toContain('bad_types.yaml:5:5: stages[0].type: unknown stage type "shufle"; known types: shuffle, noise, batch');
    expect(e.message).toContain('bad_types.yaml:12:19: model.decoder[2]: the decoder must end at the input width 16, got 15');
    expect(e.message).toContain('bad_types.yaml:14:3: train.epochs');
  });

  it('layer sizes that do not start at the data width fail before any work, at the encoder line', async () => {
    const loaded = await loadPipeline(fixture('bad_width.yaml'));
    const e = await failure(checkAgainstData(loaded));
    expect(e.code).toBe('CONFIG_DATA_MISMATCH');
    expect(e.message).toContain('bad_width.yaml:9:3');
    expect(e.message).toContain("model's input is 784 wide, but");
    expect(e.message).toContain('has 16 feature columns');
  });

  it('bad YAML syntax and custom tags are syntax errors with a line', async () => {
    const syntax = await failure(loadPipeline(fixture('bad_syntax.yaml')));
    expect(syntax.code).toBe('CONFIG_SYNTAX');
    expect(syntax.message).toMatch(/bad_syntax\.yaml:\d+:\d+/);
    const tag = await failure(loadPipeline(fixture('bad_tag.yaml')));
    expect(tag.code).toBe('CONFIG_SYNTAX');
    expect(tag.message).toContain('Unresolved tag');
  });

  it('a missing file is CONFIG_NOT_FOUND', async () => {
    expect((await failure(loadPipeline(fixture('nope.yaml')))).code).toBe('CONFIG_NOT_FOUND');
  });

  it('--set overrides any key, reads values as YAML, resolves paths against the working folder', async () => {
    const loaded = await loadPipeline(
      fixture('tiny.yaml'),
      ['train.epochs=7', 'data.test=other/test.csv', 'stages.1.size=8', 'model.encoder=[16, 4]'],
      '/somewhere',
    );
    expect(loaded.config.train.epochs).toBe(7);
    expect(loaded.config.data.test).toBe('/somewhere/other/test.csv');
    expect(loaded.config.stages[1]).toEqual({ type: 'batch', size: 8 });
    expect(loaded.config.model).toMatchObject({ encoder: [16, 4] });
  });

  it('a bad --set value is reported as that --set', async () => {
    const e = await failure(loadPipeline(fixture('tiny.yaml'), ['train.epochs=0']));
    expect(e.message).toContain('--set train.epochs=0: train.epochs');
    expect((await failure(loadPipeline(fixture('tiny.yaml'), ['train.epoch=3']))).message).toContain('unknown key "epoch"');
    expect(() => parseSet('epochs')).toThrow(/KEY=VALUE/);
  });

  it('the resolved YAML loads back to the same configuration', async () => {
    const loaded = await loadPipeline(fixture('tiny.yaml'));
    const { parse } = await import('yaml');
    expect(parse(loaded.resolvedYaml())).toEqual(JSON.parse(JSON.stringify({ ...loaded.config, name: 'tiny' })));
  });
});
