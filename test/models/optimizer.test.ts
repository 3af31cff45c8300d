import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../../src/backend.js';
import { FlatOptimizer, type OptimizerSpec } from '../../src/models/optimizer.js';
import { Random } from '../../src/random.js';

const adam: OptimizerSpec = { type: 'adam', learning_rate: 0.01, beta1: 0.9, beta2: 0.999, epsilon: 1e-8 };

/** `steps` gradients of `size` values, reproducible. */
function gradients(size: number, steps: number, seed: number): Float32Array[] {
  const random = new Random(seed);
  return Array.from({ length: steps }, () => Float32Array.from({ length: size }, () => random.normal() * 0.1));
}

describe('FlatOptimizer', () => {
  beforeAll(async () => {
    await selectBackend('cpu');
  });

  it("Adam takes the same steps as tfjs's tf.train.adam", () => {
    const size = 300;
    const start = Float32Array.from({ length: size }, (_, i) => Math.sin(i));
    const grads = gradients(size, 25, 1);
    const flat = start.slice();
    const ours = new FlatOptimizer(adam, size);
    for (const g of grads) ours.step(flat, g);

    const v = tf.variable(tf.tensor1d(start));
    const theirs = tf.train.adam(adam.learning_rate, adam.beta1, adam.beta2, adam.epsilon);
    for (const g of grads) tf.tidy(() => theirs.applyGradients([{ name: v.name, tensor: tf.tensor1d(g) }]));
    const expected = v.dataSync();
    let moved = 0;
    for (let i = 0; i < size; i++) {
      // tfjs rounds every intermediate to float32; this computes in double precision: a few float32 steps apart.
      expect(Math.abs(flat[i] - expected[i])).toBeLessThan(1e-5);
      moved = Math.max(moved, Math.abs(flat[i] - start[i]));
    }
    expect(moved).toBeGreaterThan(0.1); // 25 steps of lr 0.01 in a consistent direction did move
    v.dispose();
    theirs.dispose();
  });

  it('updated share by share (as replicas do), gives exactly the whole update', () => {
    const size = 101;
    const grads = gradients(size, 10, 2);
    const whole = new Float32Array(size).fill(0.5);
    const shared = whole.slice();
    const one = new FlatOptimizer(adam, size);
    const moments = { m: new Float32Array(size), v: new Float32Array(size) };
    const a = new FlatOptimizer(adam, size, moments);
    const b = new FlatOptimizer(adam, size, moments);
    for (const g of grads) {
      one.step(whole, g);
      a.step(shared, g, 0, 40);
      b.step(shared, g, 40, size);
    }
    expect(Array.from(shared)).toEqual(Array.from(whole));
    expect(Array.from(a.state().m)).toEqual(Array.from(one.state().m));
  });

  it("takes replicas' gradients as a weighted sum, in the same order on every replica", () => {
    const size = 64;
    const [a, b, c] = gradients(size, 3, 4);
    const summed = (parts: Float32Array[], weights: number[]) =>
      Float32Array.from({ length: size }, (_, i) => parts.reduce((s, p, k) => s + weights[k] * p[i], 0));
    for (const [parts, weights] of [
      [
        [a, b],
        [0.25, 0.75],
      ],
      [
        [a, b, c],
        [0.5, 0.25, 0.25],
      ],
    ] as Array<[Float32Array[], number[]]>) {
      const p1 = new Float32Array(size).fill(1);
      const p2 = p1.slice();
      new FlatOptimizer(adam, size).step(p1, { parts, weights });
      new FlatOptimizer(adam, size).step(p2, summed(parts, weights));
      for (let i = 0; i < size; i++) expect(Math.abs(p1[i] - p2[i])).toBeLessThan(1e-6);
      expect(p1.some((v) => v !== 1)).toBe(true);
    }
    expect(() => new FlatOptimizer(adam, size).step(new Float32Array(size), { parts: [a, b], weights: [1] })).toThrow(RangeError);
  });

  it('restored from its state, goes on exactly as if never stopped', () => {
    const size = 50;
    const grads = gradients(size, 12, 3);
    const straight = new Float32Array(size);
    const o = new FlatOptimizer(adam, size);
    for (const g of grads) o.step(straight, g);

    const resumed = new Float32Array(size);
    const first = new FlatOptimizer(adam, size);
    for (const g of grads.slice(0, 5)) first.step(resumed, g);
    const second = new FlatOptimizer(adam, size);
    second.restore(first.state());
    for (const g of grads.slice(5)) second.step(resumed, g);
    expect(Array.from(resumed)).toEqual(Array.from(straight));
  });

  it('SGD steps against the gradient by the learning rate; bad sizes are errors', () => {
    const sgd = new FlatOptimizer({ ...adam, type: 'sgd', learning_rate: 0.5 }, 3);
    const p = Float32Array.from([1, 2, 3]);
    sgd.step(p, Float32Array.from([1, -2, 0]));
    expect(Array.from(p)).toEqual([0.5, 3, 3]);
    expect(() => sgd.step(p, new Float32Array(2))).toThrow(RangeError);
    expect(() => sgd.step(p, new Float32Array(3), 2, 1)).toThrow(RangeError);
  });
});
