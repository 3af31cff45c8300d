import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadPipeline } from '../../src/config/load.js';
import { denseSpec } from '../../src/models/denseAutoencoder.js';
import type { OptimizerSpec } from '../../src/models/optimizer.js';
import { runPipeline } from '../../src/pipeline/run.js';
import { Trainer } from '../../src/workers/trainer.js';
import { fixture, tempDir } from '../helpers.js';

const tmp = tempDir();
afterAll(tmp.cleanup);

const lines = (file: string) =>
  readFileSync(file, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));

/** Runs tiny.yaml with real workers on wasm; returns its summary, metrics and folder. */
async function run(name: string, sets: string[], workers = 1) {
  const out = path.join(tmp.dir, name);
  const loaded = await loadPipeline(fixture('tiny.yaml'), ['cache.enabled=false', 'snapshots.every=0', 'outputs.report=false', ...sets]);
  const summary = await runPipeline(loaded, { out, log: () => undefined, backend: 'wasm', workers });
  return { summary, metrics: lines(path.join(out, 'metrics.jsonl')), out };
}

/** The saved autoencoder's weights, all in one array (weights.bin is the float32 values back to back). */
function savedWeights(out: string): Float32Array {
  const bytes = readFileSync(path.join(out, 'model', 'autoencoder', 'weights.bin'));
  return new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
}

describe('the rates and the decay reach the workers (real threads)', () => {
  const spec = denseSpec({ encoder: [16, 8, 4], activation: 'sigmoid', init: 'torch' }, 0);
  const adam: OptimizerSpec = { type: 'adam', learning_rate: 0.01, beta1: 0.9, beta2: 0.999, epsilon: 1e-8 };
  const batch = () => Float32Array.from({ length: 10 * 16 }, (_, k) => ((k * 7919) % 255) / 255);

  /** The weights after one step at lr 0, then one at `lr`, from the same initial weights. */
  async function twoSteps(workers: number, optimizer: OptimizerSpec, lr: number) {
    const trainer = await Trainer.start({ workers, backend: 'wasm', init: { model: spec, optimizer, loss: 'half-mse' } });
    try {
      const initial = await trainer.weights();
      await trainer.step(batch(), null, 10, 16, 0);
      const afterZero = await trainer.weights();
      await trainer.step(batch(), null, 10, 16, lr);
      return { initial, afterZero, after: await trainer.weights(), last: workers > 1 ? await trainer.weights(workers - 1) : null };
    } finally {
      await trainer.close();
    }
  }

  for (const workers of [1, 2]) {
    it(`${workers} worker${workers === 1 ? '' : 's'}: a step at rate 0 changes nothing, twice the rate moves twice as far, decay shrinks by lr·λ·p`, async () => {
      const lr = 0.01;
      const lambda = 0.1;
      const plain = await twoSteps(workers, adam, lr);
      const double = await twoSteps(workers, adam, 2 * lr);
      const decayed = await twoSteps(workers, { ...adam, weight_decay: lambda }, lr);
      for (const r of [plain, double, decayed]) expect(r.afterZero.map((w) => Array.from(w))).toEqual(r.initial.map((w) => Array.from(w)));
      let checked = 0;
      plain.initial.forEach((w0, k) => {
        for (let i = 0; i < w0.length; i++) {
          const step = plain.after[k][i] - w0[i];
          expect(double.after[k][i] - w0[i]).toBeCloseTo(2 * step, 6);
          // p·(1 − lr·λ) − update, against p − update: the difference is −lr·λ·p
          expect(decayed.after[k][i] - plain.after[k][i]).toBeCloseTo(-lr * lambda * w0[i], 6);
          if (Math.abs(step) > 1e-4 && Math.abs(lr * lambda * w0[i]) > 1e-5) checked++;
        }
      });
      expect(checked).toBeGreaterThan(50);
      // data parallel: every replica applied the same update
      if (decayed.last) expect(decayed.last.map((w) => Array.from(w))).toEqual(decayed.after.map((w) => Array.from(w)));
    });
  }
});

describe('training options in real runs', () => {
  for (const workers of [1, 2]) {
    it(`${workers} worker${workers === 1 ? '' : 's'}: metrics record the schedule's rates, and the workers train at them`, async () => {
      // after epoch 1 the rate falls to 1e-32 of itself: too small to move any float32 weight
      const frozen = await run(`frozen-${workers}`, ['train.epochs=4', 'train.schedule={type: step, every_epochs: 1, gamma: 1e-32}'], workers);
      expect(frozen.metrics.map((m) => m.lr)).toEqual([0, 1, 2, 3].map((e) => 0.02 * 1e-32 ** e));
      expect(frozen.metrics.map((m) => m.steps)).toEqual([6, 12, 18, 24]);
      const tests = frozen.metrics.map((m) => m.test_loss);
      expect(tests.slice(1)).toEqual([tests[0], tests[0], tests[0]]);
      // the same run at a gamma of 1 goes on learning
      const moving = await run(`moving-${workers}`, ['train.epochs=4', 'train.schedule={type: step, every_epochs: 1, gamma: 1}'], workers);
      expect(moving.metrics[0].test_loss).toBe(tests[0]);
      expect(new Set(moving.metrics.map((m) => m.test_loss)).size).toBe(4);
    });
  }

  it('weight decay shrinks the trained weights; weight_decay 0 is the run without it, to the bit', async () => {
    const none = await run('wd-none', ['train.epochs=3']);
    const zero = await run('wd-zero', ['train.epochs=3', 'train.weight_decay=0']);
    const decayed = await run('wd-decayed', ['train.epochs=3', 'train.weight_decay=2']);
    expect(zero.metrics.map((m) => m.test_loss)).toEqual(none.metrics.map((m) => m.test_loss));
    expect(Array.from(savedWeights(zero.out))).toEqual(Array.from(savedWeights(none.out)));
    const norm = (w: Float32Array) => w.reduce((s, x) => s + x * x, 0);
    expect(norm(savedWeights(decayed.out))).toBeLessThan(0.9 * norm(savedWeights(none.out)));
  });

  it('early stopping: a wide net overfits 96 rows, the run stops, and the saved model is the best epoch’s', async () => {
    const sets = [
      'train.epochs=40',
      'optimizer.learning_rate=0.05',
      'model.encoder=[16, 128, 16]',
      'model.activation=relu',
      'model.code_activation=linear',
      'model.output_activation=sigmoid',
      'train.early_stopping={patience: 3}',
      'outputs.report=true',
    ];
    const { summary, metrics, out } = await run('early', sets);
    const tests = metrics.map((m) => m.test_loss);
    const best = tests.indexOf(Math.min(...tests)) + 1;
    expect(metrics.length).toBeLessThan(40);
    expect(metrics.length).toBe(best + 3);
    expect(metrics.at(-1)).toMatchObject({ best_epoch: best, epochs_since_best: 3, stop: 'early_stopping' });
    expect(metrics.slice(0, -1).every((m) => m.stop === null)).toBe(true);
    expect(summary).toMatchObject({ saved_epoch: best, stopped_by: 'early_stopping', test_loss: tests[best - 1] });
    expect(summary.stop_reason).toContain(`the model keeps epoch ${best}'s weights`);
    // the evaluation loads the saved model and measures it on the test split: the best epoch's loss, not the last's
    const evaluation = JSON.parse(readFileSync(path.join(out, 'evaluation.json'), 'utf8'));
    expect(Math.abs(evaluation.model_test_loss - tests[best - 1]) / tests[best - 1]).toBeLessThan(1e-4);
    expect(Math.abs(evaluation.model_test_loss - tests.at(-1)) / tests.at(-1)).toBeGreaterThan(1e-2);
  });
});
