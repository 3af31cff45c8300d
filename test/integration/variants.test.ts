import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { PNG } from 'pngjs';
import { afterAll, describe, expect, it } from 'vitest';
import { loadPipeline } from '../../src/config/load.js';
import { models } from '../../src/models/builtins.js';
import { runPipeline } from '../../src/pipeline/run.js';
import { Trainer } from '../../src/workers/trainer.js';
import { aeflow } from '../cli/cli.js';
import { fixture, tempDir } from '../helpers.js';

const tmp = tempDir();
afterAll(tmp.cleanup);
const quiet = () => undefined;
const run = async (yaml: string, sets: string[] = []) => {
  const out = path.join(tmp.dir, path.basename(yaml, '.yaml'));
  const summary = await runPipeline(await loadPipeline(fixture(yaml), sets), { out, log: quiet, backend: 'wasm' });
  const metrics = readFileSync(path.join(out, 'metrics.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  return { out, summary, metrics };
};
const png = (file: string) => PNG.sync.read(readFileSync(file));

describe('denoising', () => {
  it('lands well below the loss of the noisy input itself; snapshots show noisy, denoised, clean', async () => {
    const { out, summary, metrics } = await run('tiny-denoising.yaml');
    expect(summary.noisy_input_loss).toBeGreaterThan(0.03);
    expect(summary.test_loss).toBeLessThan(0.5 * summary.noisy_input_loss!);
    expect(metrics[0].noisy_input_loss).toBe(summary.noisy_input_loss);
    expect(new Set(metrics.map((m) => m.tensors)).size).toBe(1);
    // three rows of eight 4x4 images
    const snap = png(path.join(out, 'snapshots', 'epoch-080.png'));
    expect([snap.width, snap.height]).toEqual([8 * 4 + 9 * 2, 3 * 4 + 4 * 2]);
    // the clean bottom row holds the first test image, a bright top bar; the noisy top row is not the same picture
    const gray = (x: number, y: number) => snap.data[(y * snap.width + x) * 4];
    const clean = [0, 1, 2, 3].map((x) => gray(2 + x, 2 + 2 * 6));
    expect(Math.min(...clean)).toBeGreaterThan(190);
    let differs = 0;
    for (let y = 0; y < 4; y++) for (let x = 0; x < 4; x++) differs += Math.abs(gray(2 + x, 2 + y) - gray(2 + x, 14 + y));
    expect(differs / 16).toBeGreaterThan(20);
  });
});

describe('stacked (greedy layer-wise)', () => {
  it('runs its phases in order, with a snapshot after each', async () => {
    const { out, summary, metrics } = await run('tiny-stacked.yaml');
    expect(metrics.map((m) => m.phase)).toEqual(['layer-1', 'layer-1', 'layer-1', 'layer-1', 'layer-2', 'layer-2', 'layer-2', 'fine-tune', 'fine-tune']);
    expect(metrics.map((m) => m.phase_epoch)).toEqual([1, 2, 3, 4, 1, 2, 3, 1, 2]);
    expect(summary.phases).toEqual(['layer-1', 'layer-2', 'fine-tune']);
    // no leak: live tensors stay flat within each phase (a phase's fresh optimizer holds state for what it trains)
    for (const phase of summary.phases) expect(new Set(metrics.filter((m) => m.phase === phase).map((m) => m.tensors)).size, phase).toBe(1);
    for (const e of ['004', '007', '009']) expect(existsSync(path.join(out, 'snapshots', `epoch-${e}.png`)), e).toBe(true);
    expect(existsSync(path.join(out, 'model', 'encoder', 'model.json'))).toBe(true);
  });

  it('train.epochs is refused with the reason', async () => {
    const e = await loadPipeline(fixture('tiny-stacked.yaml'), ['train.epochs=3']).catch((err) => err);
    expect(e.message).toContain('counts its epochs in model.layer_epochs');
  });

  it('keeps earlier layers unchanged while a later layer trains (a real worker)', async () => {
    const { config } = await loadPipeline(fixture('tiny-stacked.yaml'));
    const spec = models.get('stacked-autoencoder').spec(config.model, 0);
    const trainer = await Trainer.start({ workers: 1, backend: 'wasm', init: { model: spec, optimizer: config.optimizer, loss: 'half-mse' } });
    try {
      const batch = () => Float32Array.from({ length: 16 * 16 }, (_, i) => ((i * 7919) % 255) / 255);
      const train = async (steps: number) => {
        for (let i = 0; i < steps; i++) await trainer.step(batch(), null, 16, 16, config.optimizer.learning_rate);
      };
      // variables: encoder 16->8 (w, b), encoder 8->4, decoder 4->8, decoder 8->16
      const [enc1w, , enc2w, , dec1w, , dec2w] = [0, 1, 2, 3, 4, 5, 6, 7];
      const w0 = await trainer.weights();
      await trainer.phase(1);
      await train(5);
      const w1 = await trainer.weights();
      expect(w1[enc1w]).not.toEqual(w0[enc1w]);
      expect(w1[dec2w]).not.toEqual(w0[dec2w]); // the mirror of layer 1 is the last decoder layer
      expect(w1[enc2w]).toEqual(w0[enc2w]);
      expect(w1[dec1w]).toEqual(w0[dec1w]);
      await trainer.phase(2);
      await train(5);
      const w2 = await trainer.weights();
      expect(w2[enc1w]).toEqual(w1[enc1w]);
      expect(w2[enc1w + 1]).toEqual(w1[enc1w + 1]);
      expect(w2[dec2w]).toEqual(w1[dec2w]);
      expect(w2[enc2w]).not.toEqual(w1[enc2w]);
      expect(w2[dec1w]).not.toEqual(w1[dec1w]);
      await trainer.phase(null);
      await train(2);
      const w3 = await trainer.weights();
      expect(w3[enc1w]).not.toEqual(w2[enc1w]);
    } finally {
      await trainer.close();
    }
  });
});

describe('variational', () => {
  it('logs both terms, a positive KL, and decodes samples that are not all the same', async () => {
    const { out, summary, metrics } = await run('tiny-vae.yaml');
    for (const m of metrics) {
      expect(m.train_kl).toBeGreaterThan(0);
      expect(m.test_kl).toBeGreaterThan(0);
      expect(m.test_reconstruction + m.test_kl).toBeCloseTo(m.test_loss, 4);
    }
    expect(summary.test_terms.kl).toBeGreaterThan(0);
    expect(new Set(metrics.map((m) => m.tensors)).size).toBe(1);
    const samples = png(path.join(out, 'samples.png'));
    const cell = (k: number) => {
      const left = 2 + (k % 4) * 6;
      const top = 2 + Math.floor(k / 4) * 6;
      const v: number[] = [];
      for (let y = 0; y < 4; y++) for (let x = 0; x < 4; x++) v.push(samples.data[((top + y) * samples.width + left + x) * 4]);
      return v;
    };
    const cells = Array.from({ length: 8 }, (_, k) => cell(k));
    let maxDiff = 0;
    for (const a of cells) for (const b of cells) maxDiff = Math.max(maxDiff, ...a.map((v, i) => Math.abs(v - b[i])));
    expect(maxDiff).toBeGreaterThan(40);
    const manifold = png(path.join(out, 'manifold.png'));
    expect([manifold.width, manifold.height]).toEqual([15 * 4, 15 * 4]);
    const interpolation = png(path.join(out, 'interpolation.png'));
    expect(interpolation.width).toBe(12 * 4 + 13 * 2);
  });

  it('encode exports the 2-d means', () => {
    const features = path.join(tmp.dir, 'vae-codes.csv');
    const r = aeflow(['encode', '--model', path.join(tmp.dir, 'tiny-vae', 'model'), '--input', fixture('tiny_test.csv'), '--out', features]);
    expect(r.code, r.stderr).toBe(0);
    const lines = readFileSync(features, 'utf8').trim().split('\n');
    expect(lines[0]).toBe('label,z1,z2');
    expect(lines).toHaveLength(33);
  });
});
