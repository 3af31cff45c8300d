import { lastValueFrom, of, toArray } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { addNoise, type NoiseOptions } from '../../src/operators/addNoise.js';
import { row } from '../helpers.js';

const N = 20_000;
const noisy = async (options: NoiseOptions, seed: number, value = 0.5) => {
  const [out] = await lastValueFrom(of(row(0, new Array(N).fill(value))).pipe(addNoise(options, seed), toArray()));
  return out;
};
const stats = (a: Float32Array, b: Float32Array) => {
  let sum = 0;
  let sq = 0;
  for (let i = 0; i < a.length; i++) {
    const d = a[i] - b[i];
    sum += d;
    sq += d * d;
  }
  const mean = sum / a.length;
  return { mean, std: Math.sqrt(sq / a.length - mean * mean) };
};

describe('addNoise', () => {
  it('gaussian: zero mean, the given stddev, clean values kept as the target', async () => {
    const out = await noisy({ kind: 'gaussian', stddev: 0.1, range: [0, 1] }, 1);
    const { mean, std } = stats(out.x, out.target!);
    expect(Math.abs(mean)).toBeLessThan(0.003);
    expect(std).toBeGreaterThan(0.097);
    expect(std).toBeLessThan(0.103);
    expect(out.target!.every((v) => v === 0.5)).toBe(true);
  });

  it('clips to the data range', async () => {
    const out = await noisy({ kind: 'gaussian', stddev: 2, range: [0, 1] }, 2);
    expect(Math.min(...out.x)).toBe(0);
    expect(Math.max(...out.x)).toBe(1);
    const unclipped = await noisy({ kind: 'gaussian', stddev: 2, range: null }, 2);
    expect(Math.max(...unclipped.x)).toBeGreaterThan(3);
  });

  it('masking sets the given fraction to 0 and leaves the rest', async () => {
    const out = await noisy({ kind: 'masking', fraction: 0.3, range: [0, 1] }, 3);
    const zeros = out.x.filter((v) => v === 0).length / N;
    expect(zeros).toBeGreaterThan(0.28);
    expect(zeros).toBeLessThan(0.32);
    expect(out.x.every((v) => v === 0 || v === 0.5)).toBe(true);
  });

  it('salt-pepper sets the fraction to the range ends, half each', async () => {
    const out = await noisy({ kind: 'salt-pepper', fraction: 0.2, range: [0, 1] }, 4);
    const pepper = out.x.filter((v) => v === 0).length / N;
    const salt = out.x.filter((v) => v === 1).length / N;
    expect(pepper + salt).toBeGreaterThan(0.18);
    expect(pepper + salt).toBeLessThan(0.22);
    expect(Math.abs(pepper - salt)).toBeLessThan(0.02);
  });

  it('is seeded: same seed same noise, other seed other noise', async () => {
    const a = await noisy({ kind: 'gaussian', stddev: 0.1, range: [0, 1] }, 7);
    const b = await noisy({ kind: 'gaussian', stddev: 0.1, range: [0, 1] }, 7);
    const c = await noisy({ kind: 'gaussian', stddev: 0.1, range: [0, 1] }, 8);
    expect(a.x).toEqual(b.x);
    expect(a.x).not.toEqual(c.x);
  });

  it('a second noise stage keeps the first clean target', async () => {
    const once = of(row(0, [0.5, 0.5])).pipe(addNoise({ kind: 'gaussian', stddev: 0.1, range: [0, 1] }, 1));
    const [twice] = await lastValueFrom(once.pipe(addNoise({ kind: 'masking', fraction: 0.5, range: [0, 1] }, 2), toArray()));
    expect(Array.from(twice.target!)).toEqual([0.5, 0.5]);
  });

  it('rejects impossible amounts', () => {
    expect(() => addNoise({ kind: 'masking', fraction: 1.5, range: [0, 1] }, 0)).toThrow(/\[0, 1\]/);
    expect(() => addNoise({ kind: 'salt-pepper', fraction: 0.1, range: null }, 0)).toThrow(/range/);
  });
});
