#!/usr/bin/env node
// One worker's training step on the reference model, timed in this thread (wasm backend): where the time goes.
//   npm run build && node bench/step.mjs [rows=256] [layout=features|rows]
// Prints ms per step (gradients + the flat Adam update + setting the variables), the gradients alone, the
// forward pass alone, and the optimizer alone.
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '../dist/backend.js';
import { buildModel } from '../dist/models/tensors/build.js';
import { featuresKernel, rowsKernel, variablesOf } from '../dist/models/dense.js';
import { denseSpec } from '../dist/models/denseAutoencoder.js';
import { FlatOptimizer } from '../dist/models/optimizer.js';

const rows = Number(process.argv[2] ?? 256);
const kernel = process.argv[3] === 'rows' ? rowsKernel : featuresKernel;
const { name } = await selectBackend('wasm');
const model = buildModel(denseSpec({ encoder: [784, 256, 128, 100], activation: 'sigmoid', init: 'torch' }, 0), kernel, 'half-mse');
const variables = variablesOf(model.layers());
const size = variables.reduce((n, v) => n + v.size, 0);
const optimizer = new FlatOptimizer({ type: 'adam', learning_rate: 0.01, beta1: 0.9, beta2: 0.999, epsilon: 1e-8 }, size);
const params = new Float32Array(size);
const flat = new Float32Array(size);
const data = new Float32Array(rows * 784).map((_, i) => (i % 255) / 255);
const time = (f, n = 40) => {
  for (let i = 0; i < 5; i++) f();
  const t = performance.now();
  for (let i = 0; i < n; i++) f();
  return (performance.now() - t) / n;
};
const gradients = () => {
  const { value, grads } = tf.tidy(() => {
    const x = tf.tensor2d(data, [rows, 784]);
    return tf.variableGrads(() => model.loss(x, x, true).total, variables);
  });
  let offset = 0;
  for (const v of variables) {
    flat.set(grads[v.name].dataSync(), offset);
    offset += v.size;
  }
  tf.dispose(grads);
  value.dataSync();
  value.dispose();
};
const update = () => {
  optimizer.step(params, flat);
  let offset = 0;
  tf.tidy(() => {
    for (const v of variables) {
      v.assign(tf.tensor(params.slice(offset, offset + v.size), v.shape));
      offset += v.size;
    }
  });
};
const step = time(() => {
  gradients();
  update();
});
const grads = time(gradients);
const forward = time(() => {
  const y = tf.tidy(() => model.reconstruct(tf.tensor2d(data, [rows, 784])));
  y.dataSync();
  y.dispose();
});
const adam = time(update);
console.log(
  `${name}, ${kernel.layout} layout, ${rows} rows: step ${step.toFixed(1)} ms (${Math.round((rows / step) * 1000)} samples/s), gradients ${grads.toFixed(1)} ms, forward ${forward.toFixed(1)} ms, update ${adam.toFixed(1)} ms`,
);
