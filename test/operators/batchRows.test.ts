import { lastValueFrom, of, toArray } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { batchRows } from '../../src/operators/batchRows.js';
import { row, rowsOf } from '../helpers.js';

describe('batchRows', () => {
  it('packs rows row-major, the last batch shorter', async () => {
    const batches = await lastValueFrom(rowsOf(10).pipe(batchRows(4), toArray()));
    expect(batches.map((b) => b.rows)).toEqual([4, 4, 2]);
    const last = batches[2];
    expect(last.cols).toBe(3);
    expect(Array.from(last.x)).toEqual([80, 81, 82, 90, 91, 92]);
    expect(Array.from(last.indices)).toEqual([8, 9]);
    expect(Array.from(last.labels!)).toEqual([8, 9]);
    expect(last.target).toBeNull();
  });

  it('packs values and targets into memory from the given allocator (training reuses shared memory)', async () => {
    const given: Float32Array[] = [];
    const allocate = (n: number) => {
      const a = new Float32Array(new SharedArrayBuffer(4 * n));
      given.push(a);
      return a;
    };
    const noisy = { ...row(0, [1, 2, 3], null), target: Float32Array.from([0, 0, 0]) };
    const [batch] = await lastValueFrom(of(noisy, row(1, [4, 5, 6], null)).pipe(batchRows(8, allocate), toArray()));
    expect(given).toHaveLength(2);
    expect(batch.x).toBe(given[0]);
    expect(batch.target).toBe(given[1]);
    expect(Array.from(batch.x)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(Array.from(batch.target!)).toEqual([0, 0, 0, 4, 5, 6]);
  });

  it('emits nothing for no rows and exact batches for a multiple', async () => {
    expect(await lastValueFrom(of().pipe(batchRows(4), toArray()))).toEqual([]);
    const batches = await lastValueFrom(rowsOf(8).pipe(batchRows(4), toArray()));
    expect(batches.map((b) => b.rows)).toEqual([4, 4]);
  });

  it('carries clean targets beside noisy inputs, and no labels when rows have none', async () => {
    const noisy = { ...row(0, [1, 2, 3], null), target: Float32Array.from([0, 0, 0]) };
    const [batch] = await lastValueFrom(of(noisy, row(1, [4, 5, 6], null)).pipe(batchRows(8), toArray()));
    expect(Array.from(batch.x)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(Array.from(batch.target!)).toEqual([0, 0, 0, 4, 5, 6]);
    expect(batch.labels).toBeNull();
  });

  it('rejects a size below 1', () => {
    expect(() => batchRows(0)).toThrow(/batch size/);
  });
});
