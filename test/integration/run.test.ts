import { existsSync, readFileSync } from 'node:fs';
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

  it('snapshots are 2x4 grids of 4x4 reconstructions; comparison puts originals above reconstructions', () => {
    const snap = PNG.sync.read(readFileSync(path.join(tmp.dir, 'snapshots', 'epoch-030.png')));
    expect([snap.width, snap.height]).toEqual([4 * 4 + 5 * 2, 2 * 4 + 3 * 2]);
    const cmp = PNG.sync.read(readFileSync(path.join(tmp.dir, 'comparison.png')));
    expect([cmp.width, cmp.height]).toEqual([8 * 4 + 9 * 2, 2 * 4 + 3 * 2]);
    // The first test image is a bar along the top row: bright there in the original (top) cell.
    const gray = (x: number, y: number) => cmp.data[(y * cmp.width + x) * 4];
    expect(gray(2, 2)).toBeGreaterThan(190);
    expect(gray(2, 5)).toBeLessThan(40);
    // Its reconstruction (bottom cell) learned the same bar.
    expect(gray(2, 8)).toBeGreaterThan(gray(2, 11));
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
