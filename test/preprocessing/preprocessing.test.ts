import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type FitOptions, Preprocessing } from '../../src/preprocessing/preprocessing.js';
import { ColumnStatistics } from '../../src/preprocessing/statistics.js';
import { ValueCounts } from '../../src/preprocessing/vocabulary.js';
import { Random } from '../../src/random.js';

/** Mean and population standard deviation the textbook way: two passes, in float64. */
function twoPass(values: number[]): { mean: number; std: number } {
  const mean = values.reduce((s, v) => s + v, 0) / values.length;
  return { mean, std: Math.sqrt(values.reduce((s, v) => s + (v - mean) ** 2, 0) / values.length) };
}

describe('ColumnStatistics', () => {
  it('equals a two-pass computation to 1e-9 relative, on columns of very different scales and offsets', () => {
    const random = new Random(5);
    const columns = [() => 1e6 + random.normal(), () => 0.001 * random.normal(), (i: number) => (i % 7) * 1000];
    const rows = Array.from({ length: 5000 }, (_, i) => columns.map((f) => f(i)));
    const s = new ColumnStatistics(3);
    for (const r of rows) s.add(r);
    for (let j = 0; j < 3; j++) {
      const exact = twoPass(rows.map((r) => r[j]));
      expect(Math.abs(s.mean(j) - exact.mean) / Math.abs(exact.mean)).toBeLessThan(1e-9);
      expect(Math.abs(s.std(j) - exact.std) / exact.std).toBeLessThan(1e-9);
      expect(s.min[j]).toBe(Math.min(...rows.map((r) => r[j])));
      expect(s.max[j]).toBe(Math.max(...rows.map((r) => r[j])));
    }
  });

  it('merges parts as if it had seen them all, and leaves missing values out of the moments', () => {
    fc.assert(
      fc.property(fc.array(fc.double({ min: -1e3, max: 1e3, noNaN: true }), { minLength: 2, maxLength: 200 }), fc.nat(), (values, cut) => {
        const at = cut % values.length;
        const whole = new ColumnStatistics(1);
        const a = new ColumnStatistics(1);
        const b = new ColumnStatistics(1);
        values.forEach((v, i) => {
          whole.add([v]);
          (i < at ? a : b).add([v]);
        });
        a.add([Number.NaN]);
        a.merge(b);
        expect(a.count[0]).toBe(values.length);
        expect(a.missing[0]).toBe(1);
        expect(a.rows).toBe(values.length + 1);
        expect(a.mean(0)).toBeCloseTo(whole.mean(0), 9);
        expect(a.std(0)).toBeCloseTo(whole.std(0), 7);
      }),
    );
  });
});

describe('Preprocessing', () => {
  const stats = new ColumnStatistics(2);
  for (const r of [
    [1, Number.NaN],
    [3, 10],
    [5, 20],
  ])
    stats.add(r);
  const counts = [null, null, new ValueCounts()];
  for (const v of ['b', 'a', 'b', 'c', 'b', 'a']) counts[2]?.add(v);
  const names = ['x', 'y', 'colour'];
  const kinds = ['numeric', 'numeric', 'categorical'] as const;
  const fitted = (o: Partial<FitOptions>) =>
    Preprocessing.fit(names, [1, 2, 3], kinds, withCategorical(stats), counts, {
      normalize: 'standard',
      scale: null,
      missing: 'mean',
      indicators: false,
      maxCategories: 2,
      ...o,
    });

  it('standardizes, fills missing values by the policy, one-hot encodes with "other" for values not kept or never seen', () => {
    const p = fitted({ indicators: true });
    expect(p.json.features).toEqual(['x', 'x?', 'y', 'y?', 'colour=b', 'colour=a', 'colour=other']);
    const out = new Float32Array(p.width);
    const text = (value: string) => (j: number) => (j === 2 ? value : '');
    expect(p.apply([3, Number.NaN, 0], text('a'), out)).toBe(-1);
    // x: mean 3 → 0; y missing → its mean 15 → 0, with its indicator; colour a
    expect(Array.from(out)).toEqual([0, 0, 0, 1, 0, 1, 0]);
    p.apply([5, 20, 0], text('zebra'), out);
    expect(out[0]).toBeCloseTo(2 / Math.sqrt(8 / 3), 6);
    expect(out[2]).toBeCloseTo(1, 6);
    expect(Array.from(out.subarray(4))).toEqual([0, 0, 1]);
    // c was seen, but less often than the 2 kept
    p.apply([5, 20, 0], text('c'), out);
    expect(Array.from(out.subarray(4))).toEqual([0, 0, 1]);
    expect(p.original(0, out[0])).toBeCloseTo(5, 5);
  });

  it('zero fills with 0 in the column’s units; error leaves the missing value for the reader to report', () => {
    const out = new Float32Array(5);
    expect(fitted({ missing: 'zero' }).apply([3, Number.NaN, 0], () => 'b', out)).toBe(-1);
    expect(out[1]).toBeCloseTo((0 - 15) / 5, 6);
    expect(fitted({ missing: 'error' }).apply([3, Number.NaN, 0], () => 'b', out)).toBe(1);
  });

  it('scale divides as data.scale does, minmax maps the training range to [0, 1], none passes values on', () => {
    const out = new Float32Array(5);
    fitted({ normalize: 'scale', scale: 255 }).apply([51, 255, 0], () => 'b', out);
    expect(out[0]).toBe(Math.fround(51 * (1 / 255)));
    fitted({ normalize: 'minmax' }).apply([5, 10, 0], () => 'b', out);
    expect([out[0], out[1]]).toEqual([1, 0]);
    fitted({ normalize: 'none' }).apply([5, 10, 0], () => 'b', out);
    expect([out[0], out[1]]).toEqual([5, 10]);
  });

  it('survives its JSON', () => {
    const p = fitted({ indicators: true });
    const back = Preprocessing.fromJson(JSON.parse(JSON.stringify(p.json)));
    const a = new Float32Array(p.width);
    const b = new Float32Array(p.width);
    p.apply([4, 12, 0], () => 'a', a);
    back.apply([4, 12, 0], () => 'a', b);
    expect(Array.from(b)).toEqual(Array.from(a));
    expect(() => Preprocessing.fromJson({ format: 'x' } as never)).toThrow(/not an aeflow preprocessing file/);
  });
});

/** The numeric statistics, widened by the categorical column (which takes no part in them). */
function withCategorical(s: ColumnStatistics): ColumnStatistics {
  const wide = new ColumnStatistics(3);
  wide.merge(Object.assign(new ColumnStatistics(3), { rows: 0 }));
  for (const key of ['count', 'means', 'm2', 'min', 'max', 'missing'] as const) wide[key].set(s[key]);
  wide.rows = s.rows;
  return wide;
}
