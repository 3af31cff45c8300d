#!/usr/bin/env node
// The workers' ceiling: training steps on one synthetic batch (reference model, batch 256, 4 steps in flight)
// with no data pipeline at all, so nothing else competes for the cores. Compare with a run's samples/s to see
// what the main thread (reading, shuffling, batching) costs.
//   npm run build && node bench/ceiling.mjs [workers=2] [steps=235]
import { Trainer } from '../dist/workers/trainer.js';
import { denseSpec } from '../dist/models/denseAutoencoder.js';

const workers = Number(process.argv[2] ?? 2);
const steps = Number(process.argv[3] ?? 235);
const spec = denseSpec({ encoder: [784, 256, 128, 100], activation: 'sigmoid', init: 'torch' }, 0);
const adam = { type: 'adam', learning_rate: 0.01, beta1: 0.9, beta2: 0.999, epsilon: 1e-8 };
const trainer = await Trainer.start({ workers, backend: 'wasm', init: { model: spec, optimizer: adam, loss: 'half-mse' } });
const batch = new Float32Array(256 * 784).map((_, i) => ((i * 7919) % 255) / 255);
const run = async (n) => {
  const inFlight = [];
  for (let i = 0; i < n; i++) {
    const x = trainer.allocate(batch.length);
    x.set(batch);
    inFlight.push(trainer.step(x, null, 256, 784, adam.learning_rate));
    if (inFlight.length >= 4) await inFlight.shift();
  }
  await Promise.all(inFlight);
};
await run(20);
const started = performance.now();
await run(steps);
const ms = (performance.now() - started) / steps;
console.log(`${workers} worker(s), ${trainer.backend}: ${ms.toFixed(2)} ms a step of 256 rows, ${Math.round((256 / ms) * 1000)} samples/s`);
await trainer.close();
