import { describe, expect, it } from 'vitest';
import { buildSummary, type StartEvent } from '../../src/pipeline/summary.js';
import type { EpochRecord } from '../../src/pipeline/train.js';

const start: StartEvent = {
  type: 'start',
  pipeline: 'p',
  dataflow: 'csv(x) -> train(y)',
  backend: 'wasm',
  skipped: [],
  matMul: 'native avx512',
  workers: 2,
  parameters: 1234,
  phases: [
    { name: 'layer-1', epochs: 1, layer: 1 },
    { name: 'fine-tune', epochs: 2, layer: null },
  ],
  objective: { id: 'half-mse', label: 'half-mse', description: 'half-mse of the clean target from the noisy input' },
};
const epoch = (n: number, over: Partial<EpochRecord> = {}): EpochRecord => ({
  epoch: n,
  epochs: 3,
  phase: n === 1 ? 'layer-1' : 'fine-tune',
  phaseEpoch: n === 1 ? 1 : n - 1,
  trainLoss: 1 / n,
  trainTerms: {},
  testLoss: 2 / n,
  testTerms: { kl: n },
  noisyInputLoss: null,
  seconds: n,
  samplesPerS: 100,
  rows: 100 * n,
  testRows: 10 * n,
  tensors: 5,
  rssMb: 100,
  skipped: null,
  log: true,
  ...over,
});
const context = { model: 'stacked-autoencoder', outputs: { metrics: 'm' }, toSavedModelS: 5.4321, wallS: 9.8765, peakRssMb: 300, finishedAt: 'now' };

describe('buildSummary', () => {
  it('takes losses and sizes from the last epoch, throughput over every epoch, the rest from the start event', () => {
    const s = buildSummary([epoch(1), epoch(2), epoch(3)], start, context);
    expect(s).toEqual({
      pipeline: 'p',
      model: 'stacked-autoencoder',
      backend: 'wasm',
      matmul: 'native avx512',
      workers: 2,
      epochs: 3,
      phases: ['layer-1', 'fine-tune'],
      rows: 300,
      test_rows: 30,
      objective: 'half-mse',
      test_loss_is: 'half-mse of the clean target from the noisy input',
      train_loss: 1 / 3,
      test_loss: 2 / 3,
      test_terms: { kl: 3 },
      // (100 + 200 + 300) rows in (1 + 2 + 3) s
      samples_per_s: 100,
      train_s: 6,
      to_saved_model_s: 5.43,
      wall_s: 9.88,
      parameters: 1234,
      peak_rss_mb: 300,
      outputs: { metrics: 'm' },
      finished_at: 'now',
    });
  });

  it('adds the noisy input’s loss and the skipped rows only when the last epoch has them', () => {
    const skipped = { train: { count: 1, lines: [3], first: 'x' }, test: { count: 0, lines: [], first: null } };
    const s = buildSummary([epoch(1), epoch(2, { noisyInputLoss: 0.05, skipped: skipped as never })], start, context);
    expect(s.noisy_input_loss).toBe(0.05);
    expect(s.skipped_rows).toEqual(skipped);
    const plain = buildSummary([epoch(1)], start, context);
    expect('noisy_input_loss' in plain || 'skipped_rows' in plain).toBe(false);
  });

  it('needs an epoch', () => {
    expect(() => buildSummary([], start, context)).toThrow(RangeError);
  });
});
