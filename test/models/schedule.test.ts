import { describe, expect, it } from 'vitest';
import { CONSTANT, learningRate } from '../../src/models/schedule.js';

const base = 0.004;
const at = (step: number, epoch: number, epochs = 10) => ({ step, epoch, epochs });

describe('learningRate', () => {
  it('a constant schedule without warm-up gives the base rate itself, at any step', () => {
    for (const step of [0, 1, 999]) expect(Object.is(learningRate(CONSTANT, base, at(step, 3)), base)).toBe(true);
  });

  it('step decay multiplies by gamma after every `every_epochs` epochs', () => {
    const spec = { type: 'step', warmup_steps: 0, every_epochs: 3, gamma: 0.5 } as const;
    const rates = Array.from({ length: 10 }, (_, i) => learningRate(spec, base, at(1000, i + 1)));
    expect(rates).toEqual([1, 1, 1, 0.5, 0.5, 0.5, 0.25, 0.25, 0.25, 0.125].map((f) => base * f));
  });

  it('cosine starts at the base rate, ends at min_lr in the last epoch, and is halfway in the middle epoch', () => {
    const spec = { type: 'cosine', warmup_steps: 0, min_lr: 0.001 } as const;
    const epochs = 9;
    const rate = (epoch: number) => learningRate(spec, base, at(50, epoch, epochs));
    expect(rate(1)).toBe(base);
    expect(rate(9)).toBeCloseTo(0.001, 15);
    expect(rate(5)).toBeCloseTo((base + 0.001) / 2, 15);
    // the closed form at every epoch, and never rising
    for (let e = 1; e <= epochs; e++) {
      expect(rate(e)).toBeCloseTo(0.001 + (base - 0.001) * 0.5 * (1 + Math.cos((Math.PI * (e - 1)) / 8)), 15);
      if (e > 1) expect(rate(e)).toBeLessThan(rate(e - 1));
    }
    // a one-epoch phase trains at the base rate
    expect(learningRate(spec, base, at(0, 1, 1))).toBe(base);
  });

  it('warm-up scales step k by (k + 1) / warmup_steps, on top of the decay, then lets the decay alone', () => {
    const spec = { type: 'step', warmup_steps: 4, every_epochs: 1, gamma: 0.1 } as const;
    expect([0, 1, 2, 3].map((k) => learningRate(spec, base, at(k, 1)))).toEqual([0.25, 0.5, 0.75, 1].map((f) => base * f));
    // a warm-up that lasts into the second epoch warms the decayed rate
    expect(learningRate(spec, base, at(2, 2))).toBeCloseTo(base * 0.1 * 0.75, 18);
    expect(learningRate(spec, base, at(4, 2))).toBeCloseTo(base * 0.1, 18);
    expect(learningRate({ type: 'constant', warmup_steps: 4 }, base, at(100, 1))).toBe(base);
  });
});
