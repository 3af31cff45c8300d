import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { lastValueFrom, of, toArray } from 'rxjs';
import { afterAll, describe, expect, it } from 'vitest';
import { AeflowError } from '../../src/errors.js';
import { batchRows } from '../../src/operators/batchRows.js';
import { normalize } from '../../src/operators/normalize.js';
import { shuffleWindow } from '../../src/operators/shuffleWindow.js';
import { csvRows } from '../../src/sources/csv.js';
import { row, tempDir, keepRows } from '../helpers.js';

const tmp = tempDir();
afterAll(tmp.cleanup);
let n = 0;
const write = (content: string | Uint8Array) => {
  const file = path.join(tmp.dir, `hostile-${n++}.csv`);
  writeFileSync(file, content);
  return file;
};
const read = (file: string) => lastValueFrom(csvRows(file, { header: true, labelColumn: 'label' }).pipe(normalize(255), keepRows(), toArray()));
const code = (file: string) =>
  read(file).then(
    () => 'ok',
    (e) => (e instanceof AeflowError ? e.code : `uncoded: ${e}`),
  );

describe('hostile input: works, or ends in a coded error', () => {
  it('ordinary CSV variations work: BOM, CRLF, quoted header, blank lines, no final newline, UTF-16', async () => {
    const rows = await read(write('\ufeff"label","a"\r\n\r\n1,255\r\n2,0'));
    expect(rows.map((r) => [r.label, ...r.x])).toEqual([
      [1, 1],
      [2, 0],
    ]);
    const utf16 = await read(write(Buffer.from('\ufefflabel,a\n1,51\n', 'utf16le')));
    expect(Array.from(utf16[0].x)).toEqual([Math.fround(0.2)]);
  });

  it.each([
    ['ragged row', 'label,a,b\n1,2,3\n1,2\n', 'CSV_ROW_INVALID'],
    ['not a number', 'label,a\n1,x\n', 'CSV_VALUE_INVALID'],
    ['NaN', 'label,a\n1,NaN\n', 'CSV_VALUE_INVALID'],
    ['out of range', 'label,a\n1,256\n', 'CSV_VALUE_OUT_OF_RANGE'],
    ['negative pixel', 'label,a\n1,-1\n', 'CSV_VALUE_OUT_OF_RANGE'],
    ['empty file', '', 'CSV_EMPTY'],
    ['header only', 'label,a\n', 'CSV_EMPTY'],
    ['unclosed quote', 'label,a\n1,"2\n', 'CSV_PARSE_FAILED'],
  ])('%s -> %s', async (_, content, expected) => {
    expect(await code(write(content))).toBe(expected);
  });

  it('a gzip file is read as its text, whatever its name; binary bytes are not text', async () => {
    const rows = await read(write(gzipSync('label,a\n1,2\n3,"4"\n')));
    expect(rows.map((r) => [r.label, ...r.x])).toEqual([
      [1, Math.fround(2 / 255)],
      [3, Math.fround(4 / 255)],
    ]);
    expect(await code(write(Uint8Array.from([108, 97, 0, 1, 2, 10, 49, 0])))).toBe('CSV_NOT_TEXT');
  });

  it('a corrupt or cut gzip file ends in CSV_GZIP_INVALID naming the file', async () => {
    const whole = gzipSync(`label,a\n${Array.from({ length: 2000 }, (_, i) => `${i % 10},${i % 256}`).join('\n')}\n`);
    const corrupt = Buffer.from(whole);
    corrupt[Math.floor(corrupt.length / 2)] ^= 0xff;
    for (const bytes of [corrupt, whole.subarray(0, whole.length - 20)]) {
      const file = write(bytes);
      const e = await read(file).then(
        () => null,
        (err) => err,
      );
      expect(e).toBeInstanceOf(AeflowError);
      expect(e.code).toBe('CSV_GZIP_INVALID');
      expect(e.message).toContain(file);
    }
  });

  it('a folder or a missing path', async () => {
    const dir = path.join(tmp.dir, 'folder.csv');
    mkdirSync(dir);
    expect(await code(dir)).toBe('CSV_NOT_FOUND');
    expect(await code(path.join(tmp.dir, 'missing.csv'))).toBe('CSV_NOT_FOUND');
  });

  it('a 10 MB line ends in a row error that names its line and counts its columns', async () => {
    const huge = `1,${'7,'.repeat(5 * 1024 * 1024)}7`;
    const file = write(`label,a\n1,2\n${huge}\n3,4\n`);
    const error = await read(file).then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(AeflowError);
    expect((error as AeflowError).code).toBe('CSV_ROW_INVALID');
    expect((error as AeflowError).message).toBe(`${file}:3: row has ${5 * 1024 * 1024 + 2} columns, expected 2 (as in the header)`);
  });
});

describe('the operators on random rows (fast-check)', () => {
  const values = fc.array(fc.oneof(fc.integer({ min: -5, max: 300 }), fc.double({ noNaN: false })), { minLength: 3, maxLength: 3 });

  it('normalize yields rows in [0, 1] or a coded range error, never anything else', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(values, { maxLength: 20 }), async (rows) => {
        const result = await lastValueFrom(of(...rows.map((v, i) => row(i, v))).pipe(normalize(255), toArray())).catch((e) => e);
        if (Array.isArray(result)) {
          expect(result.every((r: { x: Float32Array }) => r.x.every((x) => x >= 0 && x <= 1))).toBe(true);
          expect(result).toHaveLength(rows.length);
        } else {
          expect(result).toBeInstanceOf(AeflowError);
          expect(result.code).toBe('CSV_VALUE_OUT_OF_RANGE');
        }
      }),
      { numRuns: 200, seed: 1 },
    );
  });

  it('shuffle then batch keeps every row exactly once, in batches of the size asked', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: 200 }),
        fc.integer({ min: 1, max: 50 }),
        fc.integer({ min: 1, max: 40 }),
        fc.nat(),
        async (count, window, size, seed) => {
          const rows = Array.from({ length: count }, (_, i) => row(i, [i, i, i]));
          const batches = await lastValueFrom(of(...rows).pipe(shuffleWindow(window, seed), batchRows(size), toArray()));
          const indices = batches.flatMap((b) => Array.from(b.indices)).sort((a, b) => a - b);
          expect(indices).toEqual(rows.map((r) => r.index));
          expect(batches.slice(0, -1).every((b) => b.rows === size)).toBe(true);
        },
      ),
      { numRuns: 200, seed: 2 },
    );
  });
});
