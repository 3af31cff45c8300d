import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { lastValueFrom, toArray } from 'rxjs';
import { afterAll, describe, expect, it } from 'vitest';
import { csvRows } from '../../src/sources/csv.js';
import { fixture, tempDir, keepRows } from '../helpers.js';

const read = (file: string, options: Partial<Parameters<typeof csvRows>[1]> = {}) =>
  lastValueFrom(csvRows(file, { header: true, labelColumn: 'label', ...options }).pipe(keepRows(), toArray()));
const failure = (file: string, options: Partial<Parameters<typeof csvRows>[1]> = {}) =>
  read(file, options).then(
    () => null,
    (e) => e,
  );

const tmp = tempDir();
afterAll(tmp.cleanup);
const write = (name: string, text: string) => {
  const file = path.join(tmp.dir, name);
  writeFileSync(file, text);
  return file;
};

describe('csvRows', () => {
  it('reads a header, keeps the label out of the features, numbers lines from 1', async () => {
    const rows = await read(fixture('tiny_train.csv'));
    expect(rows).toHaveLength(96);
    expect(rows[0].line).toBe(2);
    expect(rows[0].index).toBe(0);
    expect(rows[0].label).toBe(0);
    expect(rows[0].x).toBeInstanceOf(Float32Array);
    expect(Array.from(rows[0].x)).toEqual([236, 216, 234, 254, 20, 20, 5, 26, 21, 24, 22, 10, 23, 5, 17, 7]);
    expect(rows[95].line).toBe(97);
    expect(rows[0].origin.header?.[1]).toBe('1x1');
  });

  it('finds the label column by name or number, anywhere, or not at all', async () => {
    const file = write('label_last.csv', 'a,b,y\n1,2,7\n3,4,8\n');
    const byName = await read(file, { labelColumn: 'y' });
    expect(byName.map((r) => [r.label, ...r.x])).toEqual([
      [7, 1, 2],
      [8, 3, 4],
    ]);
    const byNumber = await read(file, { labelColumn: 3 });
    expect(byNumber.map((r) => r.label)).toEqual([7, 8]);
    const none = await read(file, { labelColumn: null });
    expect(Array.from(none[0].x)).toEqual([1, 2, 7]);
    expect(none[0].label).toBeNull();
  });

  it('reads lines longer than its read buffer (1 MB), and a bad value at their end names the column', async () => {
    const width = 300_000; // ~1.2 MB per line
    const values = (r: number) => Array.from({ length: width }, (_, c) => (c * 7 + r) % 1000);
    const header = ['label', ...values(0).map((_, c) => `p${c}`)].join(',');
    const file = write('wide.csv', [header, `1,${values(1).join(',')}`, `2,${values(2).join(',')}`].join('\n') + '\n');
    const rows = await read(file);
    expect(rows.map((r) => [r.line, r.label, r.x.length])).toEqual([
      [2, 1, width],
      [3, 2, width],
    ]);
    expect(Array.from(rows[1].x)).toEqual(values(2));
    const bad = write('wide_bad.csv', `${header}\n1,${values(1).join(',')}\n2,${values(2).slice(0, -1).join(',')},x9\n`);
    expect((await failure(bad))?.message).toMatch(new RegExp(`wide_bad.csv:3:${width + 1}: column ${width + 1} \\("p${width - 1}"\\) holds "x9"`));
  });

  it('reads files without a header', async () => {
    const rows = await read(write('noheader.csv', '1,2,3\n4,5,6\n'), { header: false, labelColumn: 1 });
    expect(rows.map((r) => [r.line, r.label, ...r.x])).toEqual([
      [1, 1, 2, 3],
      [2, 4, 5, 6],
    ]);
  });

  it('accepts a byte-order mark, CRLF line ends, quoted headers, blank lines and no final newline', async () => {
    const rows = await read(write('ordinary.csv', '\ufeff"label","a","b"\r\n1,2,3\r\n\r\n4,5,6'));
    expect(rows.map((r) => [r.label, ...r.x])).toEqual([
      [1, 2, 3],
      [4, 5, 6],
    ]);
  });

  it('a row with the wrong number of columns names file and line', async () => {
    const e = await failure(fixture('bad_columns.csv'));
    expect(e.code).toBe('CSV_ROW_INVALID');
    expect(e.message).toContain('bad_columns.csv:3');
    expect(e.message).toMatch(/has 3 columns, expected 4/);
  });

  it('a value that is not a number names file, line, column and what was found', async () => {
    const e = await failure(fixture('bad_value.csv'));
    expect(e.code).toBe('CSV_VALUE_INVALID');
    expect(e.message).toContain('bad_value.csv:3:3');
    expect(e.message).toContain('"abc"');
    expect(e.message).toContain('("b")');
    expect(e.message).toContain('expected a finite number');
  });

  it('empty values, NaN and Infinity are not numbers', async () => {
    for (const bad of ['', 'NaN', 'Infinity']) {
      const e = await failure(write('bad.csv', `label,a\n1,${bad}\n`));
      expect(e.code).toBe('CSV_VALUE_INVALID');
      expect(e.message).toContain(':2:2');
    }
  });

  it('a missing file, a folder, an empty file and a header-only file are coded errors', async () => {
    expect((await failure(path.join(tmp.dir, 'nope.csv'))).code).toBe('CSV_NOT_FOUND');
    expect((await failure(tmp.dir)).message).toMatch(/is a folder/);
    expect((await failure(fixture('empty.csv'))).code).toBe('CSV_EMPTY');
    const headerOnly = await failure(fixture('header_only.csv'));
    expect(headerOnly.code).toBe('CSV_EMPTY');
    expect(headerOnly.message).toMatch(/header but no data rows/);
  });

  it('an unknown label column lists the header', async () => {
    const e = await failure(fixture('tiny_train.csv'), { labelColumn: 'class' });
    expect(e.code).toBe('CSV_HEADER_INVALID');
    expect(e.message).toContain('no column named "class"');
  });

  it('reports bytes parsed and rows for progress, ending at the whole file', async () => {
    const seen: Array<[number, number]> = [];
    await read(fixture('tiny_train.csv'), { progress: (parsed, total, rows) => seen.push([parsed / total, rows]) });
    expect(seen[0][1]).toBe(64);
    expect(seen[0][0]).toBeGreaterThan(0.5);
    expect(seen[0][0]).toBeLessThan(0.8);
    expect(seen[seen.length - 1]).toEqual([1, 96]);
  });
});
