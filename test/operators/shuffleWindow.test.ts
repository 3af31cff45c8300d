import { concat, lastValueFrom, map, Observable, type OperatorFunction, of, range, throwError, toArray } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { describe, expect, it } from 'vitest';
import { batchRows } from '../../src/operators/batchRows.js';
import { shuffleRows, shuffleWindow } from '../../src/operators/shuffleWindow.js';
import type { Row } from '../../src/rows.js';
import { origin } from '../helpers.js';

const shuffled = (n: number, window: number, seed: number) => lastValueFrom(range(0, n).pipe(shuffleWindow(window, seed), toArray()));

describe('shuffleWindow', () => {
  it('emits a permutation of its input', async () => {
    const out = await shuffled(1000, 100, 7);
    expect(out).toHaveLength(1000);
    expect([...out].sort((a, b) => a - b)).toEqual(Array.from({ length: 1000 }, (_, i) => i));
    expect(out).not.toEqual(Array.from({ length: 1000 }, (_, i) => i));
  });

  it('is seeded: same seed, same order; other seed, other order', async () => {
    expect(await shuffled(500, 64, 1)).toEqual(await shuffled(500, 64, 1));
    expect(await shuffled(500, 64, 1)).not.toEqual(await shuffled(500, 64, 2));
  });

  it('respects the window: the i-th output arrived among the first i + window inputs', async () => {
    const window = 10;
    const out = await shuffled(300, window, 3);
    for (const [i, value] of out.entries()) expect(value).toBeLessThan(i + window);
    // and it does move items that far: some item leaves at the edge of what the window allows
    expect(out.some((value, i) => value >= i + window - 2)).toBe(true);
  });

  it('with a window as large as the data, yields every permutation with equal frequency', async () => {
    // 3 items, 6 permutations; 6000 draws -> each about 1000.
    const counts = new Map<string, number>();
    for (let seed = 0; seed < 6000; seed++) {
      const key = (await shuffled(3, 3, seed)).join('');
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
    expect(counts.size).toBe(6);
    for (const c of counts.values()) expect(Math.abs(c - 1000)).toBeLessThan(120);
  });

  it('window 1 keeps the order', async () => {
    expect(await shuffled(50, 1, 9)).toEqual(Array.from({ length: 50 }, (_, i) => i));
  });

  it('holds items until the window is full, then emits one per arrival, the rest at completion (marbles)', async () => {
    const order = await lastValueFrom(of('a', 'b', 'c', 'd').pipe(shuffleWindow(3, 0), toArray()));
    new TestScheduler((a, b) => expect(a).toEqual(b)).run(({ cold, expectObservable }) => {
      const [w, x, y, z] = order;
      expectObservable(cold('a-b-c-d-|').pipe(shuffleWindow(3, 0))).toBe('------w-(xyz|)', { w, x, y, z });
    });
  });

  it('passes errors on and rejects a window below 1', async () => {
    const failing = concat(
      of(1, 2),
      throwError(() => new Error('boom')),
    );
    await expect(lastValueFrom(failing.pipe(shuffleWindow(5, 0), toArray()))).rejects.toThrow('boom');
    expect(() => shuffleWindow(0, 0)).toThrow(/window/);
  });
});

describe('shuffleRows', () => {
  // Rows whose values encode their index, as a reader emits them: a fresh array per row, or one reused array.
  const rowsOf = (n: number, width: number, reuse: boolean, withTarget = false) =>
    new Observable<Row>((subscriber) => {
      const shared = new Float32Array(width);
      const sharedTarget = new Float32Array(width);
      for (let i = 0; i < n && !subscriber.closed; i++) {
        const x = reuse ? shared : new Float32Array(width);
        x.fill(i);
        const r: Row = { origin, line: i + 2, index: i, label: i % 10, x };
        if (withTarget) {
          const t = reuse ? sharedTarget : new Float32Array(width);
          t.fill(-i);
          subscriber.next({ ...r, target: t });
        } else subscriber.next(r);
      }
      subscriber.complete();
    });
  // What a consumer sees at the moment each row is emitted (the rows are only valid then).
  const seen = (rows: Observable<Row>, op: OperatorFunction<Row, Row>) =>
    lastValueFrom(
      rows.pipe(
        op,
        map((r) => ({ index: r.index, label: r.label, line: r.line, x: Array.from(r.x), target: r.target && Array.from(r.target) })),
        toArray(),
      ),
    );

  it('emits rows in the same order as shuffleWindow, fields and values intact', async () => {
    for (const [n, window] of [
      [1000, 100],
      [50, 1000],
      [300, 1],
      [257, 256],
    ]) {
      const expected = await lastValueFrom(rowsOf(n, 4, false).pipe(shuffleWindow(window, 5), toArray()));
      const got = await seen(rowsOf(n, 4, false), shuffleRows(window, 5));
      expect(got.map((r) => r.index)).toEqual(expected.map((r) => r.index));
      for (const r of got) {
        expect(r.x).toEqual([r.index, r.index, r.index, r.index]);
        expect([r.label, r.line]).toEqual([r.index % 10, r.index + 2]);
        expect(r.target).toBeUndefined();
      }
    }
  });

  it('copies what it keeps: a source may reuse its row arrays, targets too', async () => {
    const fresh = await seen(rowsOf(600, 3, false, true), shuffleRows(128, 9));
    const reused = await seen(rowsOf(600, 3, true, true), shuffleRows(128, 9));
    expect(reused).toEqual(fresh);
    for (const r of reused) expect(r.target).toEqual([-r.index, -r.index, -r.index]);
  });

  it('packs into correct batches downstream (batches copy rows as they arrive)', async () => {
    const batches = await lastValueFrom(rowsOf(1000, 2, true).pipe(shuffleRows(300, 1), batchRows(64), toArray()));
    const indices = batches.flatMap((b) => Array.from(b.indices));
    expect([...indices].sort((a, b) => a - b)).toEqual(Array.from({ length: 1000 }, (_, i) => i));
    for (const b of batches) for (let r = 0; r < b.rows; r++) expect(b.x[r * 2]).toBe(b.indices[r]);
  });

  it('ends with an error naming the row when rows change width', async () => {
    const rows: Observable<Row> = of(
      { origin, line: 2, index: 0, label: null, x: Float32Array.of(1, 2) },
      { origin, line: 3, index: 1, label: null, x: Float32Array.of(1) },
    );
    await expect(lastValueFrom(rows.pipe(shuffleRows(4, 0), toArray()))).rejects.toThrow(/row 1 \(line 3\) has 1 values, the rows before it 2/);
    expect(() => shuffleRows(0, 0)).toThrow(/window/);
  });
});
