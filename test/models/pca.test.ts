import { describe, expect, it } from 'vitest';
import { halfMse, Pca } from '../../src/models/pca.js';
import { Random } from '../../src/random.js';

/** Rows on a k-dimensional plane through a mean, in d dimensions, plus optional noise. */
function planeData(n: number, d: number, k: number, noise: number, seed: number): Float64Array[] {
  const r = new Random(seed);
  const basis = Array.from({ length: k }, () => Array.from({ length: d }, () => r.normal()));
  const mean = Array.from({ length: d }, () => r.uniform(0, 1));
  return Array.from({ length: n }, () => {
    const z = Array.from({ length: k }, () => r.normal());
    return Float64Array.from(mean, (m, i) => m + basis.reduce((s, b, c) => s + b[i] * z[c], 0) + noise * r.normal());
  });
}

function fitPca(rows: Float64Array[], k: number, exactWidth?: number): Pca {
  const d = rows[0].length;
  const sum = new Float64Array(d);
  const outer = new Float64Array(d * d);
  for (const x of rows) {
    for (let i = 0; i < d; i++) {
      sum[i] += x[i];
      for (let j = 0; j < d; j++) outer[i * d + j] += x[i] * x[j];
    }
  }
  return Pca.fromSums(sum, outer, rows.length, k, exactWidth);
}

describe('PCA from streamed sums', () => {
  it('reconstructs data that lies on a k-dimensional plane exactly with k components, not with fewer', () => {
    const rows = planeData(300, 12, 3, 0, 1);
    const exact = fitPca(rows, 3);
    for (const x of rows.slice(0, 20)) expect(halfMse(exact.reconstruct(x), x)).toBeLessThan(1e-18);
    const short = fitPca(rows, 2);
    const loss = rows.reduce((s, x) => s + halfMse(short.reconstruct(x), x), 0) / rows.length;
    expect(loss).toBeGreaterThan(1e-3);
  });

  it('finds orthonormal directions, largest variance first', () => {
    const rows = planeData(500, 8, 8, 0.1, 2);
    const pca = fitPca(rows, 4);
    const col = (c: number) => Array.from({ length: 8 }, (_, i) => pca.components[i * 4 + c]);
    for (let a = 0; a < 4; a++) {
      for (let b = 0; b < 4; b++) {
        const dot = col(a).reduce((s, v, i) => s + v * col(b)[i], 0);
        expect(dot).toBeCloseTo(a === b ? 1 : 0, 8);
      }
    }
    for (let c = 1; c < 4; c++) expect(pca.variances[c]).toBeLessThanOrEqual(pca.variances[c - 1]);
    // the variance along the first direction is the variance of the projections onto it
    const projected = rows.map((x) => pca.project(x)[0]);
    const mean = projected.reduce((s, v) => s + v, 0) / projected.length;
    const variance = projected.reduce((s, v) => s + (v - mean) ** 2, 0) / (projected.length - 1);
    expect(variance).toBeCloseTo(pca.variances[0], 6);
  });

  it('on wide data, subspace iteration finds what the exact decomposition finds', () => {
    const rows = planeData(800, 300, 40, 0.05, 3);
    const exact = fitPca(rows, 20, Number.POSITIVE_INFINITY);
    const iterated = fitPca(rows, 20, 0);
    for (let c = 0; c < 20; c++) expect(Math.abs(iterated.variances[c] - exact.variances[c]) / exact.variances[c]).toBeLessThan(1e-6);
    const loss = (pca: Pca) => rows.slice(0, 100).reduce((s, x) => s + halfMse(pca.reconstruct(x), x), 0);
    expect(Math.abs(loss(iterated) - loss(exact)) / loss(exact)).toBeLessThan(1e-6);
    // orthonormal components, and the same directions up to sign
    for (let a = 0; a < 20; a++) {
      const col = (p: Pca, c: number) => Array.from({ length: 300 }, (_, i) => p.components[i * 20 + c]);
      const u = col(iterated, a);
      expect(u.reduce((s, v) => s + v * v, 0)).toBeCloseTo(1, 10);
      expect(Math.abs(u.reduce((s, v, i) => s + v * col(exact, a)[i], 0))).toBeCloseTo(1, 5);
    }
  });
});
