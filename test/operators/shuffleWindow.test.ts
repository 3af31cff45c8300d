import { concat, lastValueFrom, of, range, throwError, toArray } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { describe, expect, it } from 'vitest';
import { shuffleWindow } from '../../src/operators/shuffleWindow.js';

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
