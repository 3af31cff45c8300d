import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { lastValueFrom, map, toArray } from 'rxjs';
import { afterAll, describe, expect, it } from 'vitest';
import { AeflowError } from '../../src/errors.js';
import { type DataSource, dataRows } from '../../src/pipeline/dataflow.js';
import { fixture, repoRoot, tempDir } from '../helpers.js';

const tmp = tempDir();
afterAll(tmp.cleanup);
const source = (file: string, cache: DataSource['cache'] = null): DataSource => ({
  file,
  header: true,
  labelColumn: 'label',
  scale: 255,
  onBadRow: 'error',
  parser: 'fast',
  cache,
});
const rows = (s: DataSource) =>
  lastValueFrom(
    dataRows(s).pipe(
      map((r) => ({ file: path.basename(r.origin.file), line: r.line, index: r.index, label: r.label, x: Array.from(r.x) })),
      toArray(),
    ),
  );

describe('shards and compressed input', () => {
  const lines = readFileSync(fixture('tiny_train.csv'), 'utf8').trim().split('\n');
  const dir = path.join(tmp.dir, 'shards');
  mkdirSync(dir);
  // Three shards, written out of order, one of them gzip-compressed.
  const shard = (name: string, from: number, to: number, gzip = false) => {
    const text = `${[lines[0], ...lines.slice(1 + from, 1 + to)].join('\n')}\n`;
    writeFileSync(path.join(dir, name), gzip ? gzipSync(text) : text);
  };
  shard('part-2.csv', 60, 96);
  shard('part-0.csv', 0, 30, true);
  shard('part-1.csv', 30, 60);

  it('a pattern reads its shards in sorted order as one file: the same rows as the whole, numbered on, each shard named by its lines', async () => {
    const whole = await rows(source(fixture('tiny_train.csv')));
    for (const cache of [null, { dir: path.join(tmp.dir, 'cache'), maxBytes: 1e8 }]) {
      // twice with the cache: the first pass writes each shard's cache, the second reads them
      for (let pass = 0; pass < (cache ? 2 : 1); pass++) {
        const sharded = await rows(source(path.join(dir, 'part-*.csv'), cache));
        expect(sharded.map((r) => [r.index, r.label, r.x])).toEqual(whole.map((r) => [r.index, r.label, r.x]));
        expect(sharded[30]).toMatchObject({ file: 'part-1.csv', line: 2, index: 30 });
      }
    }
  });

  it('shards whose headers differ are an error naming the shard and its line', async () => {
    const bad = path.join(tmp.dir, 'bad');
    mkdirSync(bad);
    writeFileSync(path.join(bad, 'a.csv'), 'label,x,y\n1,2,3\n');
    writeFileSync(path.join(bad, 'b.csv'), 'label,y,x\n1,2,3\n');
    const e = await rows(source(path.join(bad, '*.csv'))).catch((err) => err);
    expect(e).toBeInstanceOf(AeflowError);
    expect(e.code).toBe('CSV_HEADER_INVALID');
    expect(e.message).toContain(`${path.join(bad, 'b.csv')}:1:`);
    const none = await rows(source(path.join(bad, '*.tsv'))).catch((err) => err);
    expect(none.code).toBe('CSV_NOT_FOUND');
  });

  for (const gzip of [false, true])
    it(`\`-\` reads standard input (${gzip ? 'gzip' : 'text'})`, async () => {
      const child = spawn(
        process.execPath,
        [
          '--input-type=module',
          '-e',
          `const { dataRows } = await import(${JSON.stringify(path.join(repoRoot, 'dist/pipeline/dataflow.js'))}); const { count, lastValueFrom } = await import('rxjs'); console.log(await lastValueFrom(dataRows({ file: '-', header: true, labelColumn: 'label', scale: 255, onBadRow: 'error', parser: 'fast', cache: { dir: '.', maxBytes: 1 } }).pipe(count())));`,
        ],
        { cwd: repoRoot },
      );
      const text = readFileSync(fixture('tiny_test.csv'));
      child.stdin.end(gzip ? gzipSync(text) : text);
      let out = '';
      child.stdout.on('data', (d) => (out += d));
      const code = await new Promise((resolve) => child.on('close', resolve));
      expect(code).toBe(0);
      expect(out.trim()).toBe(String(readFileSync(fixture('tiny_test.csv'), 'utf8').trim().split('\n').length - 1));
    });
});
