import { appendFileSync, readdirSync, truncateSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { lastValueFrom, map, take, toArray } from 'rxjs';
import { afterAll, describe, expect, it } from 'vitest';
import { type CacheOptions, cachedCsvRows, clearCache, listCache } from '../../src/sources/rowCache.js';
import { csvRows } from '../../src/sources/csv.js';
import { tempDir } from '../helpers.js';

const tmp = tempDir();
afterAll(tmp.cleanup);
let n = 0;
const setup = (rows = 50) => {
  const dir = path.join(tmp.dir, `c${n++}`);
  const file = path.join(tmp.dir, `data${n}.csv`);
  const lines = ['label,a,b,c'];
  for (let i = 0; i < rows; i++) lines.push(`${i % 3},${i},${(i * 7) % 256},${255 - (i % 256)}`);
  writeFileSync(file, lines.join('\n') + '\n');
  const sources: string[] = [];
  const cache: CacheOptions = { dir, maxBytes: 1e9, onSource: (s) => sources.push(s) };
  return { dir, file, cache, sources };
};
const csv = { header: true, labelColumn: 'label' as string | null };
const plain = (r: { line: number; index: number; label: number | null; x: Float32Array }) => ({
  line: r.line,
  index: r.index,
  label: r.label,
  x: Array.from(r.x),
});
// Copied as they go by: a row's values may be a view into a buffer its source reuses.
const all = (o: ReturnType<typeof cachedCsvRows>) => lastValueFrom(o.pipe(map(plain), toArray()));
const files = (dir: string) => readdirSync(dir).sort();

describe('the row cache', () => {
  it('the first pass reads the CSV and writes the cache; the next reads the cache and gives the same rows', async () => {
    const { file, cache, sources, dir } = setup();
    const fromCsv = await all(cachedCsvRows(file, csv, cache));
    expect(files(dir).map((f) => path.extname(f))).toEqual(['.json', '.rows']);
    const fromCache = await all(cachedCsvRows(file, csv, cache));
    expect(sources).toEqual(['csv', 'cache']);
    expect(fromCache).toEqual(fromCsv);
    expect(fromCsv).toEqual(await lastValueFrom(csvRows(file, csv).pipe(map(plain), toArray())));
    expect(fromCsv).toHaveLength(50);
  });

  it('reads rows spanning many reads of its buffer, and names a truncated cache file', async () => {
    const { file, cache, dir } = setup(2500);
    const fromCsv = await all(cachedCsvRows(file, csv, cache));
    const fromCache = await all(cachedCsvRows(file, csv, cache));
    expect(fromCache).toHaveLength(2500);
    expect(fromCache).toEqual(fromCsv);
    const rowsFile = path.join(dir, files(dir).find((f) => f.endsWith('.rows')) as string);
    truncateSync(rowsFile, 20 * 1800 + 7); // 1800 whole records of 20 bytes and part of one
    await expect(all(cachedCsvRows(file, csv, cache))).rejects.toThrow(
      /holds 1800 rows and a partial one, its index says 2500: delete it \(aeflow cache clear\)/,
    );
  });

  it('a changed file is read again, never from a stale cache', async () => {
    const { file, cache, sources } = setup();
    await all(cachedCsvRows(file, csv, cache));
    appendFileSync(file, '9,1,2,3\n');
    const rows = await all(cachedCsvRows(file, csv, cache));
    expect(sources).toEqual(['csv', 'csv']);
    expect(rows).toHaveLength(51);
    expect(rows[50].label).toBe(9);
  });

  it('changed parsing options use another cache', async () => {
    const { file, cache, sources } = setup();
    await all(cachedCsvRows(file, csv, cache));
    const noLabel = await all(cachedCsvRows(file, { header: true, labelColumn: null }, cache));
    expect(sources).toEqual(['csv', 'csv']);
    expect(noLabel[0].x).toHaveLength(4);
    expect(noLabel[0].label).toBeNull();
    expect((await listCache(cache.dir)).length).toBe(2);
  });

  it('a pass that fails or stops early leaves no cache behind', async () => {
    const { file, cache, dir, sources } = setup();
    appendFileSync(file, '1,2,oops,4\n');
    await expect(all(cachedCsvRows(file, csv, cache))).rejects.toThrow(/oops/);
    // A stopped pass abandons its partial file as it is unsubscribed, synchronously: nothing to wait for.
    await lastValueFrom(cachedCsvRows(setup().file, csv, cache).pipe(take(5), toArray()));
    expect(files(dir)).toEqual([]);
    expect(sources).toEqual(['csv', 'csv']);
  });

  it('stays within its size bound, least recently used out; clear empties it', async () => {
    const first = setup(200);
    const small: CacheOptions = { dir: first.dir, maxBytes: 5000 }; // one file of 200 rows x 20 bytes (+ its index) fits, not two
    await all(cachedCsvRows(first.file, csv, small));
    const second = setup(200);
    await all(cachedCsvRows(second.file, csv, small));
    const entries = await listCache(first.dir);
    expect(entries.map((e) => e.source)).toEqual([second.file]);
    expect(entries[0].bytes).toBeLessThanOrEqual(5000);
    // a file bigger than the whole cache is streamed but not cached
    const big = setup(1000);
    const rows = await all(cachedCsvRows(big.file, csv, { dir: big.dir, maxBytes: 4000 }));
    expect(rows).toHaveLength(1000);
    expect(files(big.dir)).toEqual([]);
    writeFileSync(path.join(first.dir, 'keep-me.txt'), 'not ours');
    expect(await clearCache(first.dir)).toBeGreaterThan(0);
    expect(files(first.dir)).toEqual(['keep-me.txt']);
  });
});
