import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { lastValueFrom, map, toArray } from 'rxjs';
import { afterAll, describe, expect, it } from 'vitest';
import { AeflowError } from '../../src/errors.js';
import { type CsvOptions, csvRows } from '../../src/sources/csv.js';
import { cachedCsvRows } from '../../src/sources/rowCache.js';
import { tempDir } from '../helpers.js';

const tmp = tempDir();
afterAll(tmp.cleanup);
let n = 0;
const write = (text: string) => {
  const file = path.join(tmp.dir, `columns-${n++}.csv`);
  writeFileSync(file, text);
  return file;
};
/** Rows as plain data: the label, the values, and categorical values spelled out through the origin's lists. */
const read = (rows$: ReturnType<typeof csvRows>) =>
  lastValueFrom(
    rows$.pipe(
      map((r) => ({
        label: r.label,
        x: Array.from(r.x, (v, i) => (r.origin.categories?.[i] ? r.origin.categories[i]?.[v] : v)),
        columns: r.origin.featureColumns,
      })),
      toArray(),
    ),
  );

const table = 'id,city,temp,wind,kind,label\n1,Oslo,3.5,12,a,0\n2,Rome,,4,b,1\n3, Oslo ,-1,,a,0\n4,Lima,20,7,"c",1\n';
const plan = { features: ['city', '3-4'], exclude: ['wind'], categorical: ['city'], allowMissing: true };

describe('column plans: features by name and range, categorical values, missing values', () => {
  for (const parser of ['fast', 'csv-parse'] as const) {
    it(`selects, encodes and leaves missing values as NaN (${parser})`, async () => {
      const options: CsvOptions = { header: true, labelColumn: 'label', parser, columns: plan };
      const rows = await read(csvRows(write(table), options));
      // city (categorical: its text), temp (a number, NaN where empty); wind excluded, id and kind not chosen
      expect(rows.map((r) => [r.label, ...r.x])).toEqual([
        [0, 'Oslo', 3.5],
        [1, 'Rome', Number.NaN],
        [0, 'Oslo', -1],
        [1, 'Lima', 20],
      ]);
      expect(rows[0].columns).toEqual([1, 2]);
    });
  }

  it('without allowMissing an empty field is still an error; an unknown or non-feature categorical column is an error', async () => {
    const err = (options: CsvOptions) => read(csvRows(write(table), options)).catch((e) => e);
    expect((await err({ header: true, labelColumn: 'label', columns: { ...plan, allowMissing: false } })).code).toBe('CSV_VALUE_INVALID');
    const notFeature = await err({ header: true, labelColumn: 'label', columns: { ...plan, categorical: ['kind'] } });
    expect(notFeature).toBeInstanceOf(AeflowError);
    expect(notFeature.message).toContain('column 5 ("kind") is named in data.categorical but is not a feature column');
    expect((await err({ header: true, labelColumn: 'label', columns: { ...plan, features: ['nope'] } })).message).toContain('no column named "nope"');
    expect((await err({ header: true, labelColumn: 'label', columns: { ...plan, features: [9] } })).message).toContain('column 9 does not exist');
  });

  it('the row cache keeps the categories, and keys by the plan', async () => {
    const file = write(table);
    const cache = { dir: path.join(tmp.dir, 'cache'), maxBytes: 1e8 };
    const options: CsvOptions = { header: true, labelColumn: 'label', columns: plan };
    const first = await read(cachedCsvRows(file, options, cache));
    const cached = await read(cachedCsvRows(file, options, cache));
    expect(cached).toEqual(first);
    // another plan reads the CSV again, not the cache
    const other = await read(cachedCsvRows(file, { ...options, columns: { ...plan, categorical: [], features: ['temp'] } }, cache));
    expect(other.map((r) => r.x)).toEqual([[3.5], [Number.NaN], [-1], [20]]);
  });
});
