import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../../src/backend.js';
import { buildModel } from '../../src/models/tensors/build.js';
import { type DenseKernel, featuresKernel, fromCanonical, rowsKernel, toCanonical, transposeArray, variablesOf } from '../../src/models/dense.js';
import { denseSpec } from '../../src/models/denseAutoencoder.js';
import type { ModelSpec } from '../../src/models/layers.js';
import { Random } from '../../src/random.js';

const spec: ModelSpec = denseSpec({ encoder: [12, 7, 3], activation: 'sigmoid', init: 'torch' }, 5);
const vaeSpec: ModelSpec = {
  type: 'variational-autoencoder',
  encoder: [{ inputs: 12, units: 6, activation: 'relu' }],
  latent: 2,
  decoder: [
    { inputs: 2, units: 6, activation: 'relu' },
    { inputs: 6, units: 12, activation: 'sigmoid' },
  ],
  reconstruction: 'binary-crossentropy',
  beta: 1,
  init: 'glorot-uniform',
  seed: 3,
};
const random = new Random(9);
const batch = Float32Array.from({ length: 5 * 12 }, () => random.uniform(0, 1));

/** Loss, canonical gradients and reconstruction of a fresh model in a layout. */
function run(model: ModelSpec, kernel: DenseKernel) {
  const m = buildModel(model, kernel, 'half-mse');
  const variables = variablesOf(m.layers());
  const { value, grads } = tf.tidy(() => {
    const x = tf.tensor2d(batch, [5, 12]);
    return tf.variableGrads(() => m.loss(x, x, true).total, variables);
  });
  const gradients = toCanonical(
    m.layers(),
    variables.map((v) => grads[v.name].dataSync() as Float32Array),
  );
  const y = tf.tidy(() => m.reconstruct(tf.tensor2d(batch, [5, 12])));
  const result = {
    loss: value.dataSync()[0],
    gradients,
    y: y.dataSync() as Float32Array,
    weights: toCanonical(
      m.layers(),
      variables.map((v) => v.dataSync() as Float32Array),
    ),
    model: m,
  };
  tf.dispose([value, y, ...Object.values(grads)]);
  return result;
}

const close = (a: ArrayLike<number>, b: ArrayLike<number>, tolerance = 1e-5) => {
  expect(a.length).toBe(b.length);
  for (let i = 0; i < a.length; i++) expect(Math.abs(a[i] - b[i])).toBeLessThan(tolerance);
};

describe('dense layouts', () => {
  beforeAll(async () => {
    await selectBackend('wasm');
  });

  for (const [name, model] of [
    ['dense autoencoder', spec],
    ['VAE', vaeSpec],
  ] as const) {
    it(`${name}: features × batch computes what batch × features does (loss, gradients, output, weights)`, () => {
      const rows = run(model, rowsKernel);
      const features = run(model, featuresKernel);
      expect(features.loss).toBeGreaterThan(0);
      expect(Math.abs(features.loss - rows.loss)).toBeLessThan(1e-5 * rows.loss);
      for (const [i, g] of rows.gradients.entries()) close(features.gradients[i], g);
      close(features.y, rows.y);
      for (const [i, w] of rows.weights.entries()) expect(Array.from(features.weights[i])).toEqual(Array.from(w));
      expect(features.gradients.some((g) => g.some((v) => v !== 0))).toBe(true);
      rows.model.dispose();
      features.model.dispose();
    });
  }

  it('weights carried across layouts (a checkpoint resumed on another backend) give the same model', () => {
    const source = buildModel(spec, featuresKernel, 'half-mse');
    const target = buildModel(denseSpec({ encoder: [12, 7, 3], activation: 'sigmoid', init: 'torch' }, 99), rowsKernel, 'half-mse');
    // Move the source's weights a little off their initial values, so the test cannot pass by equal seeds.
    for (const v of variablesOf(source.layers())) v.assign(tf.tidy(() => tf.add(v, tf.randomUniform(v.shape, -0.1, 0.1, 'float32', 4))));
    const canonical = toCanonical(
      source.layers(),
      variablesOf(source.layers()).map((v) => v.dataSync() as Float32Array),
    );
    const values = fromCanonical(target.layers(), canonical);
    for (const [i, v] of variablesOf(target.layers()).entries()) v.assign(tf.tensor(values[i], v.shape));
    const [a, b] = [source, target].map((m) => tf.tidy(() => m.reconstruct(tf.tensor2d(batch, [5, 12]))));
    close(a.dataSync(), b.dataSync());
    tf.dispose([a, b]);
    source.dispose();
    target.dispose();
  });

  it('transposeArray turns rows into columns', () => {
    expect(Array.from(transposeArray(Float32Array.from([1, 2, 3, 4, 5, 6]), 2, 3))).toEqual([1, 4, 2, 5, 3, 6]);
  });
});
