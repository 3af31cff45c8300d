import { firstValueFrom, lastValueFrom, of, toArray } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { AeflowError } from '../../src/errors.js';
import { normalize } from '../../src/operators/normalize.js';
import { row } from '../helpers.js';

describe('normalize', () => {
  it('divides by the scale', async () => {
    const out = await firstValueFrom(of(row(0, [0, 51, 255])).pipe(normalize(255)));
    expect(Array.from(out.x)).toEqual([0, 0.2, 1].map((v) => Math.fround(v)));
    expect(out.label).toBe(0);
  });

  it('passes rows unchanged with scale null', async () => {
    const input = row(0, [-3, 1000, 0.5]);
    const out = await firstValueFrom(of(input).pipe(normalize(null)));
    expect(out).toBe(input);
  });

  it('rejects a value outside [0, scale] naming file, line and column', async () => {
    const rows = of(row(0, [1, 2, 3]), row(1, [1, 256, 3]), row(2, [1, 2, 3]));
    const error = await lastValueFrom(rows.pipe(normalize(255), toArray())).catch((e) => e);
    expect(error).toBeInstanceOf(AeflowError);
    expect(error.code).toBe('CSV_VALUE_OUT_OF_RANGE');
    // row(1) sits on line 3; value index 1 is CSV column 3, named "b".
    expect(error.message).toContain('mem.csv:3:3');
    expect(error.message).toContain('"b"');
    expect(error.message).toContain('256');
    expect(error.message).toContain('0 to 255');
  });

  it('rejects negative values and NaN', async () => {
    for (const bad of [-1, Number.NaN]) {
      const error = await firstValueFrom(of(row(0, [1, bad, 3])).pipe(normalize(255))).catch((e) => e);
      expect(error.code).toBe('CSV_VALUE_OUT_OF_RANGE');
    }
  });

  it('in place, names the first bad value even when the values scaled before it exceed the scale (scale < 1)', async () => {
    const input = row(0, [0.25, 0.375, 0.75]);
    const error = await firstValueFrom(of(input).pipe(normalize(0.5, undefined, { inPlace: true }))).catch((e) => e);
    expect(error.code).toBe('CSV_VALUE_OUT_OF_RANGE');
    expect(error.message).toContain('holds 0.75');
    expect(input.x[2]).toBe(0.75); // left as it was
  });
});
