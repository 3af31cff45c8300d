import { describe, expect, it } from 'vitest';
import { Reservoir } from '../../src/pipeline/reservoir.js';

/** Which of `n` items a reservoir of `capacity` keeps, by their 0-based position. */
function sample(n: number, capacity: number, seed: number): number[] {
  const reservoir = new Reservoir(capacity, seed);
  const slots = new Array<number>(capacity).fill(-1);
  for (let i = 0; i < n; i++) {
    const slot = reservoir.offer();
    if (slot >= 0) slots[slot] = i;
  }
  for (const [slot, item] of slots.entries()) if (item >= 0) expect(reservoir.holds(slot, item)).toBe(true);
  return slots.filter((i) => i >= 0);
}

describe('Reservoir', () => {
  it('keeps everything while the stream is no longer than its capacity', () => {
    expect(sample(7, 10, 1)).toEqual([0, 1, 2, 3, 4, 5, 6]);
    const r = new Reservoir(10, 1);
    for (let i = 0; i < 10; i++) r.offer();
    expect(r.complete).toBe(true);
    r.offer();
    expect(r.complete).toBe(false);
    expect(r.size).toBe(10);
  });

  it('keeps each item with the same probability (chi-square over 4,000 seeded samples)', () => {
    const n = 50;
    const capacity = 10;
    const trials = 4000;
    const counts = new Array<number>(n).fill(0);
    for (let t = 0; t < trials; t++) for (const i of sample(n, capacity, t)) counts[i]++;
    const expected = (trials * capacity) / n;
    const chi2 = counts.reduce((s, c) => s + (c - expected) ** 2 / expected, 0);
    // 49 degrees of freedom: the 99.9th percentile of chi-square is 85.4. Early and late items alike.
    expect(chi2).toBeLessThan(85.4);
    expect(Math.abs(counts.slice(0, 10).reduce((a, b) => a + b, 0) - counts.slice(40).reduce((a, b) => a + b, 0))).toBeLessThan(0.1 * 10 * expected);
  });

  it('the same seed picks the same items; another seed others', () => {
    expect(sample(1000, 20, 5)).toEqual(sample(1000, 20, 5));
    expect(sample(1000, 20, 5)).not.toEqual(sample(1000, 20, 6));
  });
});
