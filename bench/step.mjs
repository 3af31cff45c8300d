#!/usr/bin/env node
// One worker's training step on the reference model, timed in this thread (wasm backend): where the time goes.
//   npm run build && node bench/step.mjs [rows=256]
// Prints ms per step (forward + backward + Adam), the forward pass alone, and Adam alone.
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '../dist/backend.js';
import { buildModel } from '../dist/models/build.js';
import { denseFor } from '../dist/models/dense.js';
import { denseSpec } from '../dist/models/denseAutoencoder.js';

const rows = Number(process.argv[2] ?? 256);
const { name } = await selectBackend('wasm');
const model = buildModel(denseSpec({ encoder: [784, 256, 128, 100], activation: 'sigmoid', init: 'torch' }, 0), denseFor(name), 'half-mse');
const optimizer = tf.train.adam(0.01, 0.9, 0.999, 1e-8);
const data = new Float32Array(rows * 784).map((_, i) => (i % 255) / 255);
const time = (f, n = 40) => {
  for (let i = 0; i < 5; i++) f();
  const t = performance.now();
  for (let i = 0; i < n; i++) f();
  return (performance.now() - t) / n;
};
const step = time(() => {
  const cost = tf.tidy(() => {
    const x = tf.tensor2d(data, [rows, 784]);
    return optimizer.minimize(() => model.loss(x, x, true).total, true, model.trainableVariables());
  });
  cost.dataSync();
  cost.dispose();
});
const forward = time(() => {
  const y = tf.tidy(() => model.reconstruct(tf.tensor2d(data, [rows, 784])));
  y.dataSync();
  y.dispose();
});
const variables = model.trainableVariables();
const adam = time(() =>
  tf.tidy(() => {
    const grads = {};
    for (const v of variables) grads[v.name] = tf.zerosLike(v);
    optimizer.applyGradients(grads);
  }),
);
console.log(
  `${name}, ${rows} rows: step ${step.toFixed(1)} ms (${Math.round((rows / step) * 1000)} samples/s), forward ${forward.toFixed(1)} ms, Adam ${adam.toFixed(1)} ms`,
);
