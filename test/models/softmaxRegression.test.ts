import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../../src/backend.js';
import { SoftmaxRegression, type SoftmaxRegressionOptions } from '../../src/models/softmaxRegression.js';
import { Random } from '../../src/random.js';

/** Rows around one centre per class, on very different scales per feature (standardization matters). */
function blobs(n: number, dims: number, classes: number, random: Random): { x: Float32Array; labels: Int32Array } {
  const centres = Array.from({ length: classes }, () => Array.from({ length: dims }, () => 3 * random.normal()));
  const scales = Array.from({ length: dims }, (_, j) => 10 ** ((j % 4) - 1));
  const x = new Float32Array(n * dims);
  const labels = new Int32Array(n);
  for (let r = 0; r < n; r++) {
    labels[r] = r % classes;
    for (let j = 0; j < dims; j++) x[r * dims + j] = scales[j] * (5 + centres[labels[r]][j] + random.normal());
  }
  return { x, labels };
}

function options(x: Float32Array, n: number, dims: number, classes: number, steps: number): SoftmaxRegressionOptions {
  const mean = new Float32Array(dims);
  const std = new Float32Array(dims);
  for (let j = 0; j < dims; j++) {
    let s = 0;
    let q = 0;
    for (let r = 0; r < n; r++) {
      s += x[r * dims + j];
      q += x[r * dims + j] ** 2;
    }
    mean[j] = s / n;
    std[j] = Math.sqrt(q / n - (s / n) ** 2);
  }
  return { dims, classes, mean, std, l2: 0.01, learningRate: 0.1, steps, averageFrom: steps / 2 };
}

describe('SoftmaxRegression', () => {
  beforeAll(async () => {
    await selectBackend('wasm');
  });

  it("computes the gradient of the standardized objective, as tfjs's autodiff does, from raw rows", () => {
    const random = new Random(2);
    const { x, labels } = blobs(64, 6, 3, random);
    const o = options(x, 64, 6, 3, 10);
    const model = new SoftmaxRegression(o);
    for (let i = 0; i < 3; i++) tf.tidy(() => model.step(tf.tensor2d(x, [64, 6]), labels));
    const w = model.weights();
    // Autodiff of mean cross-entropy of softmax((x − μ)/σ · W + b) + l2/2·‖W‖², at the last iterate.
    const last = (model as unknown as { params: Float32Array }).params;
    const expected = tf.tidy(() => {
      const z = tf.div(tf.sub(tf.tensor2d(x, [64, 6]), tf.tensor1d(o.mean)), tf.tensor1d(o.std));
      const y = tf.oneHot(tf.tensor1d(labels, 'int32'), 3);
      const f = (W: tf.Tensor, b: tf.Tensor) =>
        tf.add(tf.losses.softmaxCrossEntropy(y, tf.add(tf.matMul(z, W as tf.Tensor2D), b)), tf.mul(o.l2 / 2, tf.sum(tf.square(W)))) as tf.Scalar;
      const [gW, gb] = tf.grads(f)([tf.tensor2d(last.subarray(0, 18), [6, 3]), tf.tensor1d(last.subarray(18))]);
      return Float32Array.from([...gW.dataSync(), ...gb.dataSync()]);
    });
    const got = tf.tidy(() => model.gradient(tf.tensor2d(x, [64, 6]), labels));
    for (let i = 0; i < expected.length; i++) expect(got[i]).toBeCloseTo(expected[i], 5);
    expect(w).toHaveLength(21);
  });

  it('separates well-separated classes, predicting their labels', () => {
    const random = new Random(4);
    const n = 600;
    const { x, labels } = blobs(n, 8, 4, random);
    const o = options(x, n, 8, 4, 400);
    const model = new SoftmaxRegression(o);
    for (let step = 0; step < 400; step++) {
      const start = (step * 50) % n;
      tf.tidy(() => model.step(tf.tensor2d(x.subarray(start * 8, (start + 50) * 8), [50, 8]), labels.subarray(start, start + 50)));
    }
    const predicted = tf.tidy(() => model.predict(tf.tensor2d(x, [n, 8])));
    const right = predicted.filter((p, i) => p === labels[i]).length;
    expect(right / n).toBeGreaterThan(0.97);
    // The same predictions from rows in plain memory (how the probes predict their held rows).
    expect(Array.from(model.predictRows(x, n))).toEqual(Array.from(predicted));
    expect(model.steps).toBe(400);
  });
});
