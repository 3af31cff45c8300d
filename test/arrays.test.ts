import { describe, expect, it } from 'vitest';
import { concat } from '../src/arrays.js';

describe('concat', () => {
  it('joins typed arrays in order into a new array of the given type', () => {
    const a = Float32Array.of(1, 2);
    const joined = concat([a, Float32Array.of(), Float32Array.of(3)], Float32Array);
    expect(joined).toBeInstanceOf(Float32Array);
    expect(Array.from(joined)).toEqual([1, 2, 3]);
    joined[0] = 9;
    expect(a[0]).toBe(1);
    expect(Array.from(concat([Int32Array.of(-1), Int32Array.of(7, 8)], Int32Array))).toEqual([-1, 7, 8]);
  });

  it('gives an empty array of the type for no parts', () => {
    const empty = concat([], Uint8Array);
    expect(empty).toBeInstanceOf(Uint8Array);
    expect(empty.length).toBe(0);
  });
});
