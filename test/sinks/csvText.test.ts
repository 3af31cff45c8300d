import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CsvText } from '../../src/sinks/csvText.js';

const written = (write: (t: CsvText) => void) => {
  const t = new CsvText();
  write(t);
  return t.take().toString('utf8');
};

describe('CsvText', () => {
  it('writes numbers as JavaScript would for short values, in plain or exponent notation', () => {
    const cases: Array<[number, string]> = [
      [0, '0'],
      [1, '1'],
      [-2.5, '-2.5'],
      [1200, '1200'],
      [0.00125, '0.00125'],
      [123456789, '123456789'],
      [1e9, '1e+9'],
      [1.5e-7, '1.5e-7'],
      [0.1, '0.1'],
      [Math.fround(0.1), '0.100000001'],
      [Number.NaN, 'NaN'],
      [Number.NEGATIVE_INFINITY, '-Infinity'],
    ];
    for (const [v, s] of cases) expect(written((t) => t.number(v))).toBe(s);
    expect(written((t) => [t.int(12), t.comma(), t.int(-3), t.newline()])).toBe('12,-3\n');
  });

  it('reads back every float32 value exactly (nine significant digits)', () => {
    fc.assert(
      fc.property(fc.float({ noNaN: true, noDefaultInfinity: true }), (v) => {
        const s = written((t) => t.number(v));
        expect(Math.fround(Number(s))).toBe(v === 0 ? 0 : v);
      }),
      { numRuns: 20_000 },
    );
  });

  it('grows past its buffer', () => {
    const t = new CsvText();
    for (let i = 0; i < 20_000; i++) {
      t.number(i + 0.5);
      t.comma();
    }
    const parts = t.take().toString('utf8').split(',');
    expect(parts).toHaveLength(20_001);
    expect(Number(parts[19_999])).toBe(19_999.5);
  });
});
