import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadPipeline } from '../../src/config/load.js';
import { runPipeline } from '../../src/pipeline/run.js';
import { denseSpec } from '../../src/models/denseAutoencoder.js';
import { shareRows, Trainer } from '../../src/workers/trainer.js';
import { fixture, tempDir } from '../helpers.js';

describe('data-parallel training', () => {
  const tmp = tempDir();
  afterAll(tmp.cleanup);

  const train = async (workers: number) => {
    const out = path.join(tmp.dir, `w${workers}`);
    const loaded = await loadPipeline(fixture('tiny.yaml'), ['train.epochs=5', 'optimizer.learning_rate=0.1']);
    const summary = await runPipeline(loaded, { out, log: () => undefined, backend: 'wasm', workers });
    const metrics = readFileSync(path.join(out, 'metrics.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    return { summary, metrics };
  };

  it('two workers give the same training as one: same loss curve for the same global batch and seed', async () => {
    const one = await train(1);
    const two = await train(2);
    expect(two.summary.workers).toBe(2);
    for (let i = 0; i < 5; i++) {
      expect(Math.abs(two.metrics[i].train_loss - one.metrics[i].train_loss) / one.metrics[i].train_loss).toBeLessThan(1e-4);
      expect(Math.abs(two.metrics[i].test_loss - one.metrics[i].test_loss) / one.metrics[i].test_loss).toBeLessThan(1e-4);
    }
    // and training did move: the curve is not flat
    expect(one.metrics[4].train_loss).toBeLessThan(one.metrics[0].train_loss);
  });

  it('both replicas run Adam in the WebAssembly kernel, in the shared memory, and end with the same weights; they report their matMul', async () => {
    const spec = denseSpec({ encoder: [16, 8, 4], activation: 'sigmoid', init: 'torch' }, 0);
    const optimizer = { type: 'adam', learning_rate: 0.01, beta1: 0.9, beta2: 0.999, epsilon: 1e-8 } as const;
    const trainer = await Trainer.start({ workers: 2, backend: 'wasm', init: { model: spec, optimizer, loss: 'half-mse' } });
    try {
      expect(trainer.pool.size).toBe(2);
      // the workers report whose matMul they run: the native kernel where it was built (CI requires it)
      expect(trainer.matMul).toMatch(process.env.AEFLOW_REQUIRE_NATIVE === '1' ? /^native (avx512|avx2)$/ : /^(native|wasm)/);
      expect((await trainer.memory(0)).optimizerLoop).toBeNull();
      const before = await trainer.weights(0);
      for (let i = 0; i < 3; i++)
        await trainer.step(
          Float32Array.from({ length: 10 * 16 }, (_, k) => ((k * 7919 + i) % 255) / 255),
          null,
          10,
          16,
          optimizer.learning_rate,
        );
      expect((await trainer.memory(0)).optimizerLoop).toBe('kernel');
      expect((await trainer.memory(1)).optimizerLoop).toBe('kernel');
      const [a, b] = [await trainer.weights(0), await trainer.weights(1)];
      expect(a.map((w) => Array.from(w))).toEqual(b.map((w) => Array.from(w)));
      expect(Array.from(a[0])).not.toEqual(Array.from(before[0]));
    } finally {
      await trainer.close();
    }
  });

  it('trains with tfjs matMul when the native one is turned off, and says so', async () => {
    const spec = denseSpec({ encoder: [16, 8, 4], activation: 'sigmoid', init: 'torch' }, 0);
    const optimizer = { type: 'adam', learning_rate: 0.01, beta1: 0.9, beta2: 0.999, epsilon: 1e-8 } as const;
    const saved = process.env.AEFLOW_NATIVE_MATMUL;
    process.env.AEFLOW_NATIVE_MATMUL = '0'; // worker threads start with a copy of this environment
    const trainer = await Trainer.start({ workers: 1, backend: 'wasm', init: { model: spec, optimizer, loss: 'half-mse' } }).finally(() => {
      if (saved === undefined) delete process.env.AEFLOW_NATIVE_MATMUL;
      else process.env.AEFLOW_NATIVE_MATMUL = saved;
    });
    try {
      expect(trainer.matMul).toBe('wasm (native: off (AEFLOW_NATIVE_MATMUL=0))');
      const { loss } = await trainer.step(
        Float32Array.from({ length: 10 * 16 }, (_, k) => (k % 255) / 255),
        null,
        10,
        16,
        optimizer.learning_rate,
      );
      expect(loss).toBeGreaterThan(0);
      expect(Number.isFinite(loss)).toBe(true);
    } finally {
      await trainer.close();
    }
  });

  it('splits batches into even shares, none empty', () => {
    expect(shareRows(10, 3)).toEqual([
      [0, 4],
      [4, 3],
      [7, 3],
    ]);
    expect(shareRows(1, 2)).toEqual([[0, 1]]);
  });
});
