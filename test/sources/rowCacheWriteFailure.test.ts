import { readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { lastValueFrom, map, toArray } from 'rxjs';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { cachedCsvRows } from '../../src/sources/rowCache.js';
import { tempDir } from '../helpers.js';

// The cache writer's writes fail once (a disk full for a moment): the first block of records is lost.
let failures = 1;
vi.mock('node:fs', async (original) => {
  const fs = await original<typeof import('node:fs')>();
  const writeSync = ((...args: Parameters<typeof fs.writeSync>) => {
    if (failures > 0) {
      failures--;
      throw Object.assign(new Error('ENOSPC: no space left on device'), { code: 'ENOSPC' });
    }
    return fs.writeSync(...args);
  }) as typeof fs.writeSync;
  return { ...fs, writeSync, default: { ...fs, writeSync } };
});

const tmp = tempDir();
afterAll(tmp.cleanup);

describe('the row cache when a write fails', () => {
  it('gives up caching for the rest of the pass, streams every row, and leaves no cache behind', async () => {
    const dir = path.join(tmp.dir, 'cache');
    const file = path.join(tmp.dir, 'data.csv');
    const rows = 2500; // more than one block of records, so the failed write is not the last
    writeFileSync(file, ['label,a', ...Array.from({ length: rows }, (_, i) => `${i % 3},${i}`)].join('\n') + '\n');
    const sources: string[] = [];
    const cache = { dir, maxBytes: 1e9, onSource: (s: 'cache' | 'csv') => sources.push(s) };
    const csv = { header: true, labelColumn: 'label' };
    const first = await lastValueFrom(
      cachedCsvRows(file, csv, cache).pipe(
        map((r) => r.x[0]),
        toArray(),
      ),
    );
    expect(first).toEqual(Array.from({ length: rows }, (_, i) => i));
    expect(readdirSync(dir)).toEqual([]);
    const second = await lastValueFrom(
      cachedCsvRows(file, csv, cache).pipe(
        map((r) => r.x[0]),
        toArray(),
      ),
    );
    expect(second).toEqual(first);
    expect(sources).toEqual(['csv', 'csv']);
  });
});
