import { writeFileSync } from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { lastValueFrom, toArray } from 'rxjs';
import { afterAll, describe, expect, it } from 'vitest';
import { AeflowError } from '../../src/errors.js';
import { csvRows } from '../../src/sources/csv.js';
import { tempDir, keepRows } from '../helpers.js';

const tmp = tempDir();
afterAll(tmp.cleanup);
let n = 0;
const write = (content: string | Uint8Array) => {
  const file = path.join(tmp.dir, `case-${n++}.csv`);
  writeFileSync(file, content);
  return file;
};

/** What a parser makes of a file: its rows as plain data, or its error's code and message. */
async function outcome(file: string, parser: 'fast' | 'csv-parse', labelColumn: string | number | null = 'label', header = true) {
  try {
    const rows = await lastValueFrom(csvRows(file, { header, labelColumn, parser }).pipe(keepRows(), toArray()));
    return { rows: rows.map((r) => ({ line: r.line, index: r.index, label: r.label, x: Array.from(r.x) })) };
  } catch (e) {
    if (!(e instanceof AeflowError)) throw e;
    return { code: e.code, message: e.message.replace(file, 'FILE') };
  }
}

const corpus: Array<[string, string | Uint8Array]> = [
  ['plain', 'label,a,b\n1,2,3\n4,5,6\n'],
  ['crlf', 'label,a,b\r\n1,2,3\r\n4,5,6\r\n'],
  ['bom and crlf', '\ufefflabel,a,b\r\n1,2,3\r\n'],
  ['quoted header', '"label","a","b"\n1,2,3\n'],
  ['quoted values later', 'label,a,b\n1,2,3\n"4","5","6"\n7,8,9\n'],
  ['quoted field with comma', 'label,a,b\n1,2,3\n4,"5,5",6\n'],
  ['blank lines', 'label,a,b\n\n1,2,3\n\n\n4,5,6\n\n'],
  ['no final newline', 'label,a,b\n1,2,3\n4,5,6'],
  ['short row', 'label,a,b\n1,2,3\n4,5\n'],
  ['long row', 'label,a,b\n1,2,3,4\n'],
  ['short row with a bad value', 'label,a,b\n1,x\n'],
  ['not a number', 'label,a,b\n1,abc,3\n'],
  ['bad label', 'label,a,b\nx,2,3\n'],
  ['bad label and value', 'label,a,b\nx,2,y\n'],
  ['empty field', 'label,a,b\n1,,3\n'],
  ['NaN and Infinity', 'label,a,b\n1,NaN,3\n'],
  ['Infinity', 'label,a,b\n1,2,-Infinity\n'],
  ['odd but numeric', 'label,a,b,c,d,e,f,g,h\n1, 12 ,1e3,0x10,-0,+5,.5,5.,-2.75\n'],
  ['long decimals', 'label,a,b\n1,0.12345678901234567,123456789012345678\n'],
  // the integer fast path and where it hands over: 15 and 16 digits, leading zeros, a trailing comma
  ['integers at the edges', 'label,a,b\n007,999999999999999,1234567890123456\n0,0,000\n1,2,3,\n'],
  ['integers then a decimal', 'label,a,b\n1,2,3\n4,5.5,6\n7,8,-9\n'],
  ['integers, too many', 'label,a,b\n1,2,3,4,5\n'],
  ['old mac line ends', 'label,a,b\r1,2,3\r4,5,6\r'],
  ['mixed line ends', 'label,a,b\n1,2,3\r\n4,5,6\n'],
  ['crlf then lf', 'label,a,b\r\n1,2,3\n4,5,6\r\n'],
  ['unclosed quote', 'label,a,b\n1,2,3\n4,"5,6\n7,8,9\n'],
  ['quote inside a field', 'label,a,b\n1,2,3\n4,5"5,6\n'],
  ['whitespace line', 'label,a,b\n1,2,3\n   \n'],
  ['header only', 'label,a,b\n'],
  ['blank lines only', '\n\n\n'],
  ['utf-16', Buffer.from('\ufefflabel,a\n1,2\n', 'utf16le')],
  ['binary', Uint8Array.from({ length: 300 }, (_, i) => (i * 97 + 13) % 256)],
  ['gzip magic', Uint8Array.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3, 10, 10])],
];

describe('the fast reader and csv-parse agree', () => {
  for (const [name, content] of corpus) {
    it(name, async () => {
      const file = write(content);
      const fast = await outcome(file, 'fast');
      const reference = await outcome(file, 'csv-parse');
      expect(fast).toEqual(reference);
    });
  }

  it('without a header and with the label elsewhere', async () => {
    const file = write('1,2,9\n3,4,8\n5,x,7\n');
    expect(await outcome(file, 'fast', 3, false)).toEqual(await outcome(file, 'csv-parse', 3, false));
  });

  it('on a large file, across chunk boundaries', async () => {
    const lines = ['label,' + Array.from({ length: 50 }, (_, i) => `p${i}`).join(',')];
    for (let r = 0; r < 30_000; r++) lines.push(`${r % 10},` + Array.from({ length: 50 }, (_, i) => (r * 31 + i * 7) % 256).join(','));
    const file = write(lines.join('\n') + '\n');
    const fast = await outcome(file, 'fast');
    expect(fast.rows).toHaveLength(30_000);
    expect(fast).toEqual(await outcome(file, 'csv-parse'));
  });

  it('on random rows of numbers, blanks, junk, quotes and line ends (fast-check)', async () => {
    const field = fc.oneof(
      { weight: 8, arbitrary: fc.integer({ min: 0, max: 255 }).map(String) },
      { weight: 2, arbitrary: fc.double({ noNaN: true, min: -1e6, max: 1e6 }).map(String) },
      { weight: 1, arbitrary: fc.constantFrom('', ' ', 'x', 'NaN', '1e5', '"7"', '"1,2"', '-', '.', '\r', '"') },
    );
    const row = fc.array(field, { minLength: 2, maxLength: 4 }).map((f) => f.join(','));
    const ending = fc.constantFrom('\n', '\r\n');
    await fc.assert(
      fc.asyncProperty(fc.array(row, { minLength: 1, maxLength: 8 }), ending, fc.boolean(), async (rows, eol, finalEol) => {
        const file = write(['label,a,b', ...rows].join(eol) + (finalEol ? eol : ''));
        const fast = await outcome(file, 'fast');
        const reference = await outcome(file, 'csv-parse');
        expect(fast).toEqual(reference);
      }),
      { numRuns: 300, seed: 42 },
    );
  });

  it('on random bytes: rows or a coded error, never anything else (fast-check)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ minLength: 0, maxLength: 400 }), async (bytes) => {
        const file = write(bytes);
        for (const parser of ['fast', 'csv-parse'] as const) {
          const result = await outcome(file, parser, null, false).catch((e) => ({ thrown: e }));
          expect(result).not.toHaveProperty('thrown');
        }
      }),
      { numRuns: 200, seed: 7 },
    );
  });
});
