import { describe, expect, it } from 'vitest';
import type { RunSettings } from '../../src/config/runSettings.js';
import { AeflowError } from '../../src/errors.js';
import type { ModelData } from '../../src/pipeline/modelData.js';
import { ModelInput } from '../../src/pipeline/modelInput.js';
import { Preprocessing, type PreprocessingJson } from '../../src/preprocessing/preprocessing.js';
import { fixture } from '../helpers.js';

const encoder = new TextEncoder();
/** tiny_train.csv's layout: label first, then 16 pixels; scaled by 255. */
const run: RunSettings = { scale: 255, labelColumn: 'label', onBadRow: 'error', train: fixture('tiny_train.csv'), header: true };
const plain: ModelData = { folder: 'model', preprocessing: null, anomaly: null };
const pixels = Array.from({ length: 16 }, (_, i) => i * 10);
const name = (i: number) => `entry ${i}`;

describe('ModelInput, a model without preprocessing', () => {
  it('reads JSON rows, CSV with a header, CSV without one (label column placed by the training CSV) and stream records alike', async () => {
    const input = await ModelInput.create(plain, 16, run);
    const expected = Float32Array.from(pixels, (v) => v / 255);
    expect(input.layout.names?.slice(0, 2)).toEqual(['1x1', '1x2']);
    const json = await input.json([pixels, pixels]);
    const header = 'label,1x1,1x2,1x3,1x4,2x1,2x2,2x3,2x4,3x1,3x2,3x3,3x4,4x1,4x2,4x3,4x4';
    const csv = await input.csv(encoder.encode(`${header}\n7,${pixels.join(',')}\n`), 'request', true);
    const headerless = await input.csv(encoder.encode(`7,${pixels.join(',')}\n,${pixels.join(',')}`), 'request', false);
    const records = await input.records([`1,${pixels.join(',')}`, `,${pixels.join(',')}`], name);
    for (const r of [json, csv, headerless, records]) expect(Array.from(r.x.subarray(0, 16))).toEqual(Array.from(expected));
    expect([json.rows, csv.rows, headerless.rows, records.rows]).toEqual([2, 1, 2, 2]);
  });

  it("tells each bad record's error apart, and reads the good ones of the same batch", async () => {
    const input = await ModelInput.create(plain, 16, run);
    const good = `0,${pixels.join(',')}`;
    const records = [
      good,
      '0,1,2',
      `0,${pixels.slice(0, 15).join(',')},300`,
      `0,x,${pixels.slice(1).join(',')}`,
      '',
      good.replace('0,', '0,1\n'),
      `${good},5`,
      `"0",${pixels.slice(1).join(',')}`,
      good,
    ];
    const r = await input.records(records, name);
    expect(r.good).toEqual([0, 8]);
    expect(r.rows).toBe(2);
    expect(Array.from(r.x.subarray(16, 32))).toEqual(Array.from(r.x.subarray(0, 16)));
    const codes = Object.fromEntries([...r.errors].map(([i, e]) => [i, e.code]));
    expect(codes).toEqual({
      1: 'CSV_ROW_INVALID',
      2: 'CSV_VALUE_OUT_OF_RANGE',
      3: 'CSV_VALUE_INVALID',
      4: 'STREAM_ENTRY_INVALID',
      5: 'STREAM_ENTRY_INVALID',
      6: 'CSV_ROW_INVALID',
      7: 'CSV_ROW_INVALID',
    });
    expect(r.errors.get(1)?.message).toBe("entry 1: has 3 fields, the run's records have 17 (label, 1x1, 1x2, …, 4x4)");
    expect(r.errors.get(2)?.message).toMatch(/^entry 2:1:17: column 17 \("4x4"\) holds 300/);
    expect(r.errors.get(7)?.message).toMatch(/^entry 7:1: row has 16 columns, expected 17/);
  });

  it('a named label column that no training CSV places is an error for records, not for JSON rows', async () => {
    const input = await ModelInput.create(plain, 16, { ...run, train: '/nowhere/train.csv' });
    expect(() => input.checkRecords()).toThrow(AeflowError);
    expect((await input.json([pixels])).rows).toBe(1);
    const numbered = await ModelInput.create(plain, 16, { ...run, train: null }, { scale: 255, labelColumn: 1 });
    expect((await numbered.records([`9,${pixels.join(',')}`], name)).rows).toBe(1);
  });
});

describe('ModelInput, a model with preprocessing', () => {
  const json: PreprocessingJson = {
    format: 'aeflow-preprocessing',
    version: 1,
    normalize: 'standard',
    missing: 'mean',
    columns: [
      { kind: 'numeric', name: 'size', column: 2, shift: 10, scale: 2, fill: 12, indicator: true },
      { kind: 'categorical', name: 'colour', column: 4, values: ['red', 'blue'] },
    ],
    features: ['size', 'size?', 'colour=red', 'colour=blue', 'colour=other'],
  };
  const data: ModelData = { folder: 'model', preprocessing: Preprocessing.fromJson(json), anomaly: null };
  const settings: RunSettings = { scale: null, labelColumn: 'kind', onBadRow: 'error', train: null, header: true };

  it('applies the saved preprocessing to JSON rows, CSV by column name and records by column number alike', async () => {
    const input = await ModelInput.create(data, 5, settings);
    expect(input.layout).toMatchObject({ names: ['size', 'colour'], categorical: [false, true], allowMissing: true });
    const fromJson = await input.json([
      [14, 'blue'],
      [null, 'green'],
    ]);
    const expected = [2, 0, 0, 1, 0, 1, 1, 0, 0, 1];
    expect(Array.from(fromJson.x)).toEqual(expected);
    const csv = await input.csv(encoder.encode('colour,id,size\nblue,a,14\ngreen,b,\n'), 'request', true);
    expect(Array.from(csv.x)).toEqual(expected);
    const records = await input.records(['x,14,y,blue', 'x,,y,green', 'x,abc,y,red'], name);
    expect(Array.from(records.x)).toEqual(expected);
    expect(records.errors.get(2)?.code).toBe('CSV_VALUE_INVALID');
  });

  it('refuses a JSON row of the wrong width or with a non-number, naming row and value', async () => {
    const input = await ModelInput.create(data, 5, settings);
    await expect(input.json([[1, 'red', 3]])).rejects.toMatchObject({
      code: 'MODEL_INPUT_MISMATCH',
      message: expect.stringMatching(/^rows:1: row has 3 values/),
    });
    await expect(
      input.json([
        [1, 'red'],
        ['one', 'red'],
      ]),
    ).rejects.toMatchObject({
      code: 'CSV_VALUE_INVALID',
      message: expect.stringMatching(/^rows:2:1: column 1 \("size"\) holds "one"/),
    });
    await expect(input.json('rows')).rejects.toMatchObject({ code: 'REQUEST_INVALID' });
  });
});
