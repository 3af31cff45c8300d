import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { PNG } from 'pngjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadPipeline } from '../../src/config/load.js';
import { runPipeline, type Summary } from '../../src/pipeline/run.js';
import { fixture, tempDir } from '../helpers.js';

// A real run: a piscina worker with TensorFlow.js trains the tiny pipeline and writes a real run folder.
describe('aeflow run (real worker, tiny CSV)', () => {
  const tmp = tempDir();
  let summary: Summary;
  const lines: string[] = [];
  beforeAll(async () => {
    const loaded = await loadPipeline(fixture('tiny.yaml'), ['train.epochs=30', 'optimizer.learning_rate=0.1', 'snapshots.every=10']);
    summary = await runPipeline(loaded, { out: tmp.dir, log: (l) => lines.push(l), backend: 'wasm' });
  });
  afterAll(tmp.cleanup);

  const metrics = () =>
    readFileSync(path.join(tmp.dir, 'metrics.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));

  it('the loss falls', () => {
    const m = metrics();
    expect(m).toHaveLength(30);
    expect(m[29].train_loss).toBeLessThan(m[0].train_loss * 0.5);
    expect(m[29].test_loss).toBeLessThan(m[0].test_loss * 0.5);
    expect(m.every((e) => e.rows === 96 && e.test_rows === 32)).toBe(true);
  });

  it('live tensors in the worker stay flat across epochs', () => {
    const tensors = metrics().map((e) => e.tensors);
    expect(tensors[0]).toBeGreaterThan(0);
    expect(new Set(tensors).size).toBe(1);
  });

  it('writes every output', () => {
    for (const f of [
      'summary.json',
      'metrics.jsonl',
      'pipeline.yaml',
      'comparison.png',
      'snapshots/epoch-010.png',
      'snapshots/epoch-020.png',
      'snapshots/epoch-030.png',
    ]) {
      expect(existsSync(path.join(tmp.dir, f)), f).toBe(true);
    }
    for (const part of ['autoencoder', 'encoder', 'decoder']) {
      expect(existsSync(path.join(tmp.dir, 'model', part, 'model.json')), part).toBe(true);
      expect(existsSync(path.join(tmp.dir, 'model', part, 'weights.bin')), part).toBe(true);
    }
    const saved = JSON.parse(readFileSync(path.join(tmp.dir, 'summary.json'), 'utf8'));
    expect(saved).toMatchObject({ epochs: 30, rows: 96, backend: 'wasm', test_loss: summary.test_loss });
    for (const key of ['test_loss', 'train_loss', 'samples_per_s', 'wall_s']) expect(saved[key]).toBeGreaterThan(0);
  });

  it('snapshots are 2x4 grids of 4x4 test images, each row of originals above its reconstructions; comparison puts originals above reconstructions', () => {
    const snap = PNG.sync.read(readFileSync(path.join(tmp.dir, 'snapshots', 'epoch-030.png')));
    expect([snap.width, snap.height]).toEqual([4 * 4 + 5 * 2, 4 * 4 + 5 * 2]);
    const cmp = PNG.sync.read(readFileSync(path.join(tmp.dir, 'comparison.png')));
    expect([cmp.width, cmp.height]).toEqual([8 * 4 + 9 * 2, 2 * 4 + 3 * 2]);
    // The first test image is a bar along the top row: bright there in the original (top) cell.
    const gray = (png: PNG, x: number, y: number) => png.data[(y * png.width + x) * 4];
    expect(gray(cmp, 2, 2)).toBeGreaterThan(190);
    expect(gray(cmp, 2, 5)).toBeLessThan(40);
    // Its reconstruction (bottom cell) learned the same bar.
    expect(gray(cmp, 2, 8)).toBeGreaterThan(gray(cmp, 2, 11));
    // The snapshot's first grid row is the comparison's: the same originals, then the same reconstructions.
    for (let y = 0; y < 2 * 4 + 3 * 2; y++) for (let x = 0; x < snap.width; x++) expect(gray(snap, x, y), `${x},${y}`).toBe(gray(cmp, x, y));
  });

  it('names what each loss is: the objective in summary.json, 0.5·MSE in evaluation.json and the evaluation line', () => {
    const saved = JSON.parse(readFileSync(path.join(tmp.dir, 'summary.json'), 'utf8'));
    expect(saved).toMatchObject({ objective: 'half-mse', test_loss_is: "half-mse (0.5·mean squared error) of each row's reconstruction" });
    const evaluation = JSON.parse(readFileSync(path.join(tmp.dir, 'evaluation.json'), 'utf8'));
    expect(evaluation.model_test_loss_is).toBe('0.5·MSE of the clean test rows');
    expect(lines).toContain("loss: half-mse (0.5·mean squared error) of each row's reconstruction");
    expect(lines.find((l) => l.startsWith('evaluation: '))).toMatch(
      /^evaluation: model \d\.\d{5} vs PCA-4 \d\.\d{5} \(0\.5·MSE of the clean test rows\); probes/,
    );
  });

  it('wall_s is the whole run: at least the time to the saved model plus the evaluation', () => {
    const saved = JSON.parse(readFileSync(path.join(tmp.dir, 'summary.json'), 'utf8'));
    const evaluation = JSON.parse(readFileSync(path.join(tmp.dir, 'evaluation.json'), 'utf8'));
    expect(saved.to_saved_model_s).toBeGreaterThan(0);
    expect(evaluation.seconds.total).toBeGreaterThan(0);
    // each of the three is rounded to 10 ms
    expect(saved.wall_s + 0.015).toBeGreaterThanOrEqual(saved.to_saved_model_s + evaluation.seconds.total);
    expect(saved).toEqual(summary);
  });

  it('prints the dataflow, the backend and the reported epochs', () => {
    expect(lines[0]).toContain(
      'csv(tiny_train.csv) -> normalize(/255) -> shuffle(window 32) -> batch(16) -> train(dense-ae 16-8-4 | 4-8-16 sigmoid x1 worker, wasm)',
    );
    expect(lines.some((l) => l.startsWith('backend: wasm'))).toBe(true);
    expect(lines.filter((l) => l.startsWith('epoch'))).toHaveLength(30);
    expect(lines.some((l) => l.startsWith('done: test loss'))).toBe(true);
  });
});

describe('aeflow run with a noise stage (real worker)', () => {
  const tmp = tempDir();
  afterAll(tmp.cleanup);

  it('summary.json says the losses compare the clean target with the output for the noisy input', async () => {
    const loaded = await loadPipeline(fixture('tiny-denoising.yaml'), ['train.epochs=4', 'outputs.evaluate=false']);
    const summary = await runPipeline(loaded, { out: tmp.dir, log: () => undefined, backend: 'wasm' });
    const saved = JSON.parse(readFileSync(path.join(tmp.dir, 'summary.json'), 'utf8'));
    expect(saved).toMatchObject({ objective: 'half-mse', test_loss_is: 'half-mse (0.5·mean squared error) of the clean target from the noisy input' });
    expect(saved.noisy_input_loss).toBeGreaterThan(0);
    expect(saved).toEqual(summary);
  });
});

describe('aeflow run that cannot start makes no run folder', () => {
  const tmp = tempDir();
  afterAll(tmp.cleanup);
  const require = createRequire(import.meta.url);
  const haveTfjsNode = (() => {
    try {
      require.resolve('@tensorflow/tfjs-node');
      return true;
    } catch {
      return false;
    }
  })();

  it('a CSV of the wrong width: CONFIG_DATA_MISMATCH, no folder', async () => {
    const out = path.join(tmp.dir, 'mismatch');
    const error = await runPipeline(await loadPipeline(fixture('bad_width.yaml')), { out, log: () => undefined }).catch((e) => e);
    expect(error.code).toBe('CONFIG_DATA_MISMATCH');
    expect(existsSync(out)).toBe(false);
  });

  // Where tfjs-node installed, the tensorflow backend starts: nothing to test there.
  it.skipIf(haveTfjsNode)('a backend that cannot load (real workers): BACKEND_UNAVAILABLE, no folder', async () => {
    const out = path.join(tmp.dir, 'no-backend');
    const error = await runPipeline(await loadPipeline(fixture('tiny.yaml')), { out, log: () => undefined, backend: 'tensorflow' }).catch((e) => e);
    expect(error.code).toBe('BACKEND_UNAVAILABLE');
    expect(existsSync(out)).toBe(false);
  });
});
