import { describe, expect, it } from 'vitest';
import { AdamKernel, kernelMemory } from '../../src/models/adamKernel.js';
import { FlatOptimizer, type OptimizerSpec } from '../../src/models/optimizer.js';
import { Random } from '../../src/random.js';
import { trainingFloats, trainingRegions } from '../../src/workers/protocol.js';

const adam: OptimizerSpec = { type: 'adam', learning_rate: 0.01, beta1: 0.9, beta2: 0.999, epsilon: 1e-8 };

/** Fills arrays with reproducible gradients, some of them 0 or large. */
function fill(random: Random, ...arrays: Float32Array[]): void {
  for (const a of arrays) {
    for (let i = 0; i < a.length; i++) a[i] = i % 17 === 0 ? 0 : i % 23 === 0 ? 1e4 * random.normal() : 0.1 * random.normal();
  }
}

describe('AdamKernel', () => {
  for (const shared of [false, true]) {
    it(`gives bit for bit the JavaScript loop's parameters and moments (${shared ? 'shared' : 'own'} memory, two replicas' shares)`, () => {
      const size = 1001; // odd, and the shares below start at odd elements: the loop finishes what the pairs leave
      const memory = kernelMemory(5 * size, shared);
      const { slots, params, m, v } = trainingRegions(memory, 2, size, size);
      params.set(Float32Array.from({ length: size }, (_, i) => Math.sin(i)));
      const kernel = AdamKernel.over(memory);
      expect(kernel).not.toBeNull();
      const fast = [new FlatOptimizer(adam, size, { m, v, kernel }), new FlatOptimizer(adam, size, { m, v, kernel })];
      const expected = params.slice();
      const slow = new FlatOptimizer(adam, size);
      const random = new Random(7);
      const shares = [0, 333, size];
      for (let step = 0; step < 20; step++) {
        fill(random, ...slots);
        const weights = [0.375, 0.625];
        for (const [k, o] of fast.entries()) o.step(params, { parts: slots, weights }, shares[k], shares[k + 1]);
        slow.step(expected, { parts: slots.map((s) => s.slice()), weights });
      }
      expect(fast.map((o) => o.lastStep)).toEqual(['kernel', 'kernel']);
      expect(slow.lastStep).toBe('javascript');
      expect(Array.from(params)).toEqual(Array.from(expected));
      expect(Array.from(m)).toEqual(Array.from(slow.state().m));
      expect(Array.from(v)).toEqual(Array.from(slow.state().v));
      expect(params.some((p, i) => p !== Math.fround(Math.sin(i)))).toBe(true);
    });
  }

  it("takes three replicas' gradients summed in its memory, with the same bits as the JavaScript loop", () => {
    const size = 301;
    const replicas = 3;
    const memory = kernelMemory(trainingFloats(replicas, size), true);
    const { slots, params, m, v, sum } = trainingRegions(memory, replicas, size, size);
    expect(sum).toBeDefined();
    const kernel = AdamKernel.over(memory);
    const fast = Array.from({ length: replicas }, () => new FlatOptimizer(adam, size, { m, v, sum, kernel }));
    const slow = new FlatOptimizer(adam, size);
    const expected = params.slice();
    const random = new Random(3);
    const shares = [0, 100, 201, size];
    const weights = [0.25, 0.5, 0.25];
    for (let step = 0; step < 10; step++) {
      fill(random, ...slots);
      for (const [k, o] of fast.entries()) o.step(params, { parts: slots, weights }, shares[k], shares[k + 1]);
      slow.step(expected, { parts: slots.map((s) => s.slice()), weights });
    }
    expect(fast.map((o) => o.lastStep)).toEqual(['kernel', 'kernel', 'kernel']);
    expect(Array.from(params)).toEqual(Array.from(expected));
  });

  it('a training memory too large for WebAssembly is a plain shared buffer, where the JavaScript loop does the same', () => {
    const size = 64;
    const memory = kernelMemory(trainingFloats(2, size), true, 1024);
    expect(memory).toBeInstanceOf(SharedArrayBuffer);
    expect(AdamKernel.over(memory)).toBeNull();
    const { slots, params, m, v } = trainingRegions(memory, 2, size, size);
    const optimizer = new FlatOptimizer(adam, size, { m, v, kernel: AdamKernel.over(memory) });
    const plain = new FlatOptimizer(adam, size);
    const expected = params.slice();
    fill(new Random(5), ...slots);
    optimizer.step(params, { parts: slots, weights: [0.5, 0.5] });
    plain.step(expected, { parts: slots, weights: [0.5, 0.5] });
    expect(optimizer.lastStep).toBe('javascript');
    expect(Array.from(params)).toEqual(Array.from(expected));
    expect(kernelMemory(trainingFloats(2, size), true)).toBeInstanceOf(WebAssembly.Memory);
  });

  it('leaves arrays outside its memory to the JavaScript loop', () => {
    const size = 8;
    const memory = kernelMemory(4 * size, false);
    const { params, m, v } = trainingRegions(memory, 1, size, size);
    const optimizer = new FlatOptimizer(adam, size, { m, v, kernel: AdamKernel.over(memory) });
    optimizer.step(params, new Float32Array(size).fill(1));
    expect(optimizer.lastStep).toBe('javascript');
    expect(Array.from(params)).toEqual(Array(size).fill(Math.fround(-0.01)));
  });
});
