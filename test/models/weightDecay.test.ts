import { describe, expect, it } from 'vitest';
import { AdamKernel, kernelMemory } from '../../src/models/adamKernel.js';
import { FlatOptimizer, type OptimizerSpec } from '../../src/models/optimizer.js';
import { Random } from '../../src/random.js';
import { trainingRegions } from '../../src/workers/protocol.js';

const adam: OptimizerSpec = { type: 'adam', learning_rate: 0.01, beta1: 0.9, beta2: 0.999, epsilon: 1e-8 };

/**
 * Adam as the optimizer computed it before weight decay and schedules existed, written out again here: the
 * baseline that `weight_decay: 0` must reproduce to the bit.
 */
function plainAdam(spec: OptimizerSpec, p: Float32Array, grads: readonly Float32Array[], rates: readonly number[]): void {
  const m = new Float32Array(p.length);
  const v = new Float32Array(p.length);
  let [b1t, b2t] = [1, 1];
  for (const [t, g] of grads.entries()) {
    b1t *= spec.beta1;
    b2t *= spec.beta2;
    const rate = rates[t] / (1 - b1t);
    const scale = 1 / Math.sqrt(1 - b2t);
    for (let i = 0; i < p.length; i++) {
      const gi = g[i];
      const mi = spec.beta1 * m[i] + (1 - spec.beta1) * gi;
      const vi = spec.beta2 * v[i] + (1 - spec.beta2) * gi * gi;
      m[i] = mi;
      v[i] = vi;
      p[i] -= (rate * mi) / (Math.sqrt(vi) * scale + spec.epsilon);
    }
  }
}

function gradients(size: number, steps: number, seed: number): Float32Array[] {
  const random = new Random(seed);
  return Array.from({ length: steps }, () => Float32Array.from({ length: size }, (_, i) => (i % 13 === 0 ? 0 : random.normal() * 0.1)));
}

/** An optimizer whose arrays live in WebAssembly memory, so its steps run in AdamKernel. */
function inKernel(spec: OptimizerSpec, size: number): { optimizer: FlatOptimizer; params: Float32Array; grad: Float32Array } {
  const memory = kernelMemory(4 * size, false);
  const { slots, params, m, v } = trainingRegions(memory, 1, size, size);
  return { optimizer: new FlatOptimizer(spec, size, { m, v, kernel: AdamKernel.over(memory) }), params, grad: slots[0] };
}

describe('AdamW weight decay', () => {
  it('with weight_decay 0 (or none) the JavaScript loop and the kernel give the plain Adam update to the bit, at scheduled rates too', () => {
    const size = 257;
    const grads = gradients(size, 15, 4);
    const start = Float32Array.from({ length: size }, (_, i) => Math.cos(i));
    const rates = grads.map((_, t) => 0.01 * (t + 1) ** -0.5);
    const expected = start.slice();
    plainAdam(adam, expected, grads, rates);
    for (const spec of [adam, { ...adam, weight_decay: 0 }]) {
      const js = start.slice();
      const o = new FlatOptimizer(spec, size);
      for (const [t, g] of grads.entries()) o.step(js, g, 0, size, rates[t]);
      expect(o.lastStep).toBe('javascript');
      expect(Array.from(js)).toEqual(Array.from(expected));

      const k = inKernel(spec, size);
      k.params.set(start);
      for (const [t, g] of grads.entries()) {
        k.grad.set(g);
        k.optimizer.step(k.params, k.grad, 0, size, rates[t]);
      }
      expect(k.optimizer.lastStep).toBe('kernel');
      expect(Array.from(k.params)).toEqual(Array.from(expected));
    }
    // the default rate is the spec's
    const byDefault = start.slice();
    const o = new FlatOptimizer(adam, size);
    for (const g of grads) o.step(byDefault, g);
    const constant = start.slice();
    plainAdam(
      adam,
      constant,
      grads,
      grads.map(() => adam.learning_rate),
    );
    expect(Array.from(byDefault)).toEqual(Array.from(constant));
  });

  it('one Adam step shrinks every parameter by 1 − lr·λ before the update, as a hand computation says', () => {
    const spec = { ...adam, weight_decay: 0.5 };
    const lr = 0.1;
    const p0 = [0.5, -2, 3, 0.25];
    const g = [0, 0, 0.2, -0.4];
    for (const where of ['javascript', 'kernel'] as const) {
      const k = inKernel(spec, 4);
      const p = where === 'kernel' ? k.params : new Float32Array(4);
      const o = where === 'kernel' ? k.optimizer : new FlatOptimizer(spec, 4);
      const grad = where === 'kernel' ? k.grad : new Float32Array(4);
      p.set(p0);
      grad.set(g);
      o.step(p, grad, 0, 4, lr);
      expect(o.lastStep).toBe(where);
      // first step: m̂ = g and v̂ = g², so the update is lr·g / (|g| + ε)
      // no gradient: only the decay, 0.5 · (1 − 0.1·0.5) = 0.475 and −2 · 0.95 = −1.9
      expect(p[0]).toBe(Math.fround(0.475));
      expect(p[1]).toBe(Math.fround(-1.9));
      // 3 · 0.95 − 0.1 · 0.2 / (0.2 + 1e-8) and 0.25 · 0.95 + 0.1 · 0.4 / (0.4 + 1e-8)
      expect(p[2]).toBeCloseTo(2.85 - 0.1 * (0.2 / (0.2 + 1e-8)), 6);
      expect(p[3]).toBeCloseTo(0.2375 + 0.1 * (0.4 / (0.4 + 1e-8)), 6);
    }
  });

  it('the kernel and the JavaScript loop agree to the bit with weight decay and a changing rate', () => {
    const spec = { ...adam, weight_decay: 0.01 };
    const size = 301;
    const grads = gradients(size, 12, 9);
    const k = inKernel(spec, size);
    k.params.set(Float32Array.from({ length: size }, (_, i) => Math.sin(i)));
    const js = k.params.slice();
    const o = new FlatOptimizer(spec, size);
    for (const [t, g] of grads.entries()) {
      k.grad.set(g);
      k.optimizer.step(k.params, k.grad, 0, size, 0.02 / (t + 1));
      o.step(js, g, 0, size, 0.02 / (t + 1));
    }
    expect(Array.from(k.params)).toEqual(Array.from(js));
    expect(js.some((p, i) => p !== Math.fround(Math.sin(i)))).toBe(true);
  });

  it('SGD decays too: p·(1 − lr·λ) − lr·g; parameters without gradient decay geometrically', () => {
    const sgd = new FlatOptimizer({ ...adam, type: 'sgd', learning_rate: 0.5, weight_decay: 0.2 }, 3);
    const p = Float32Array.from([1, 2, 4]);
    sgd.step(p, Float32Array.from([1, 0, 0]));
    expect(Array.from(p)).toEqual([0.9 - 0.5, 1.8, 3.6].map(Math.fround));
    for (let t = 0; t < 9; t++) sgd.step(p, new Float32Array(3));
    expect(p[2]).toBeCloseTo(4 * 0.9 ** 10, 5);
  });
});
