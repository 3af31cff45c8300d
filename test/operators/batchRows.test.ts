import { lastValueFrom, Observable, of, toArray } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { batchRows } from '../../src/operators/batchRows.js';
import type { Row } from '../../src/rows.js';
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
    // a short batch is the first values of what was allocated, at its start (so the trainer recognizes it)
    expect(batch.x.buffer).toBe(given[0].buffer);
    expect(batch.target!.buffer).toBe(given[1].buffer);
    expect([batch.x.byteOffset, batch.x.length, batch.target!.length]).toEqual([0, 6, 6]);
    expect(Array.from(batch.x)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(Array.from(batch.target!)).toEqual([0, 0, 0, 4, 5, 6]);
  });

  it('copies each row as it arrives: rows may be views that are reused once handed over', async () => {
    const reused = new Float32Array(3);
    const source = new Observable<Row>((subscriber) => {
      for (let i = 0; i < 5; i++) {
        reused.set([i, i + 1, i + 2]);
        subscriber.next({ ...row(i, [0, 0, 0], i), x: reused });
        reused.fill(-1); // what a reused window slot would hold next
      }
      subscriber.complete();
    });
    const batches = await lastValueFrom(source.pipe(batchRows(2), toArray()));
    expect(batches.map((b) => Array.from(b.x))).toEqual([
      [0, 1, 2, 1, 2, 3],
      [2, 3, 4, 3, 4, 5],
      [4, 5, 6],
    ]);
    expect(batches.map((b) => Array.from(b.labels!))).toEqual([[0, 1], [2, 3], [4]]);
  });

  it('ends the stream with an error naming the row when a row has another width', async () => {
    const rows = of(row(0, [1, 2, 3], null), row(1, [4, 5], null));
    await expect(lastValueFrom(rows.pipe(batchRows(4)))).rejects.toThrow(/row 1 has 2 values, expected 3/);
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
