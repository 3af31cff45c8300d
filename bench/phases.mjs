#!/usr/bin/env node
// The same training loop (the trainer worker's own code, one replica, one synthetic batch of 256 rows) run on
// this thread or in a worker thread, printing ms per step every 100 steps. On the 2-core EPYC we measured, the
// worker thread has phases of several hundred steps 15-50% slower (time spent in XNNPACK's matMul), at step
// counts that repeat from run to run; this thread has none. Cause unknown (see README, Speed and scale).
//   npm run build && node bench/phases.mjs [main|worker=worker] [steps=1400]
import { isMainThread, Worker, workerData } from 'node:worker_threads';

const where = isMainThread ? (process.argv[2] ?? 'worker') : 'worker';
const steps = Number(isMainThread ? (process.argv[3] ?? 1400) : workerData.steps);
if (isMainThread && where === 'worker') {
  new Worker(new URL(import.meta.url), { workerData: { steps } });
} else {
  const { default: handle } = await import('../dist/workers/trainer.worker.js');
  const { denseSpec } = await import('../dist/models/denseAutoencoder.js');
  const ok = (r) => {
    if (!r.ok) throw new Error(r.error.message);
    return r.result;
  };
  const model = denseSpec({ encoder: [784, 256, 128, 100], activation: 'sigmoid', init: 'torch' }, 0);
  const optimizer = { type: 'adam', learning_rate: 0.01, beta1: 0.9, beta2: 0.999, epsilon: 1e-8 };
  ok(await handle({ kind: 'init', backend: 'wasm', model, optimizer, loss: 'half-mse', replica: 0 }));
  const x = new Float32Array(new SharedArrayBuffer(256 * 784 * 4)).map((_, i) => ((i * 7919) % 255) / 255);
  const times = [];
  let started = performance.now();
  for (let i = 1; i <= steps; i++) {
    ok(await handle({ kind: 'step', x, target: null, rows: 256, cols: 784, lr: optimizer.learning_rate }));
    if (i % 100 === 0) {
      times.push(((performance.now() - started) / 100).toFixed(1));
      started = performance.now();
    }
  }
  console.log(`${isMainThread ? 'main thread' : 'worker thread'}, ms a step per 100 steps: ${times.join(' ')}`);
}
