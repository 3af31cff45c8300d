import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { lastValueFrom, map, toArray } from 'rxjs';
import { afterAll, describe, expect, it } from 'vitest';
import { loadPipeline } from '../../src/config/load.js';
import { dataRows, dataSource } from '../../src/pipeline/dataflow.js';
import { prepareData } from '../../src/pipeline/prepare.js';
import { BadRows } from '../../src/sources/badRows.js';
import { tempDir } from '../helpers.js';

const tmp = tempDir();
afterAll(tmp.cleanup);
// Empty fields on lines 3 and 5; a's values 2, 4, 6, -, 8 (mean 5), b's 1, -, 3, -, 5 (mean 3).
const CSV = 'a,b\n2,1\n4,\n6,3\n,\n8,5\n';

/** Every row of the training split as a pipeline with this data.missing policy reads it (cache off). */
async function read(missing: string, indicators = false) {
  const file = path.join(tmp.dir, `${missing}.yaml`);
  writeFileSync(path.join(tmp.dir, 'rows.csv'), CSV);
  writeFileSync(
    file,
    `data: {train: rows.csv, test: rows.csv, label_column: null, normalize: none, missing: ${missing}, missing_indicators: ${indicators}}\n` +
      'stages: [{type: batch, size: 2}]\nmodel: {type: dense-autoencoder, encoder: [auto, 1]}\ntrain: {epochs: 1}\ncache: {enabled: false}\n',
  );
  const loaded = await loadPipeline(file);
  const prepared = missing === 'error' ? loaded : await prepareData(loaded);
  const badRows = new BadRows();
  const rows = await lastValueFrom(
    dataRows(dataSource(prepared.config, 'train', prepared.preprocessing), { badRows }).pipe(
      map((r) => [r.line, ...r.x]),
      toArray(),
    ),
  );
  return { rows, skipped: badRows.skipped };
}

describe('data.missing on rows with empty fields', () => {
  it('error stops at the first empty field, with its line and column and what to set instead', async () => {
    await expect(read('error')).rejects.toMatchObject({
      code: 'CSV_VALUE_INVALID',
      message: expect.stringContaining('rows.csv:3:2: column 2 ("b") is empty'),
      hint: expect.stringContaining('data.missing'),
    });
  });

  it('skip drops the rows with an empty field and counts them', async () => {
    const { rows, skipped } = await read('skip');
    expect(rows).toEqual([
      [2, 2, 1],
      [4, 6, 3],
      [6, 8, 5],
    ]);
    expect(skipped.count).toBe(2);
    expect(skipped.lines).toEqual([3, 5]);
  });

  it('mean fills in the training mean of the values that are there', async () => {
    const { rows } = await read('mean');
    expect(rows).toEqual([
      [2, 2, 1],
      [3, 4, 3],
      [4, 6, 3],
      [5, 5, 3],
      [6, 8, 5],
    ]);
  });

  it('zero fills in 0, and an indicator after each column says which were missing', async () => {
    const { rows } = await read('zero', true);
    expect(rows).toEqual([
      [2, 2, 0, 1, 0],
      [3, 4, 0, 0, 1],
      [4, 6, 0, 3, 0],
      [5, 0, 1, 0, 1],
      [6, 8, 0, 5, 0],
    ]);
  });
});
