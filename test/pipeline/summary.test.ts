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
  lr: 0.01,
  steps: n,
  earlyStopping: null,
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
      saved_epoch: 3,
      stopped_by: 'epochs',
      stop_reason: 'all 3 epochs trained',
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

  it("under early stopping, reports the best epoch's losses, which epoch model/ holds, and why training stopped", () => {
    const status = (bestEpoch: number, since: number, stop: boolean) => ({ bestEpoch, bestTestLoss: 2 / bestEpoch, epochsSinceBest: since, stop });
    const epochs = [
      epoch(1, { earlyStopping: null }),
      epoch(2, { earlyStopping: status(2, 0, false) }),
      epoch(3, { testLoss: 5, earlyStopping: status(2, 1, true) }),
    ];
    const s = buildSummary(epochs, start, { ...context, minDelta: 0.001 });
    expect([s.saved_epoch, s.test_loss, s.train_loss, s.stopped_by]).toEqual([2, 1, 1 / 2, 'early_stopping']);
    expect(s.stop_reason).toBe(
      "early stopping: the test loss did not improve by more than 0.001 on epoch 2's 1.0000 for 1 epoch; the model keeps epoch 2's weights",
    );
    // every epoch ran, but an earlier one was the best: its weights are what was saved
    const ran = buildSummary([epochs[0], epochs[1], epoch(3, { testLoss: 5, earlyStopping: status(2, 1, false) })], start, context);
    expect([ran.saved_epoch, ran.test_loss, ran.stopped_by]).toEqual([2, 1, 'epochs']);
    expect(ran.stop_reason).toBe("all 3 epochs trained; the model keeps the best epoch's (2) weights");
  });
});
