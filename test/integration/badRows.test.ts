import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { aeflow } from '../cli/cli.js';
import { fixture, tempDir } from '../helpers.js';

// on_bad_row: skip goes on past bad rows, counts every one, and reports the count and the first lines.
describe('on_bad_row: skip', () => {
  const tmp = tempDir();
  afterAll(tmp.cleanup);
  const bad = path.join(tmp.dir, 'bad.csv');
  // line 3: not a number; line 4: a column short; line 6: out of range
  writeFileSync(bad, 'label,a,b,c\n1,10,20,30\n2,10,abc,30\n3,1,2\n4,5,6,7\n5,7,8,300\n6,9,9,9\n');
  const run = (...extra: string[]) =>
    aeflow([
      'run',
      fixture('tiny.yaml'),
      '--out',
      path.join(tmp.dir, 'run'),
      '--force',
      '--set',
      `data.train=${bad}`,
      '--set',
      `data.test=${bad}`,
      '--set',
      'model.encoder=[3, 2]',
      '--set',
      'train.epochs=3',
      '--set',
      `cache.dir=${path.join(tmp.dir, 'cache')}`,
      ...extra,
    ]);

  it('error (the default) stops at the first bad row', () => {
    const r = run();
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('bad.csv:3:3');
  });

  it('skip trains on the good rows and reports every skipped one, in every epoch, cached or not', () => {
    const r = run('--set', 'data.on_bad_row=skip');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('skipped 3 bad train rows (on_bad_row: skip), at lines 3, 4, 6; the first: ');
    expect(r.stdout).toContain('bad.csv:3:3: column 3 ("b") holds "abc"');
    const summary = JSON.parse(readFileSync(path.join(tmp.dir, 'run', 'summary.json'), 'utf8'));
    expect(summary.rows).toBe(3);
    expect(summary.skipped_rows.train).toMatchObject({ count: 3, lines: [3, 4, 6] });
    expect(summary.skipped_rows.test.count).toBe(3);
    const metrics = readFileSync(path.join(tmp.dir, 'run', 'metrics.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(metrics.map((m) => m.skipped_train_rows)).toEqual([3, 3, 3]);
  });

  it("encode follows the run's policy: the good rows in order, the skipped ones reported", () => {
    const out = path.join(tmp.dir, 'codes.csv');
    const r = aeflow(['encode', '--model', path.join(tmp.dir, 'run', 'model'), '--input', bad, '--out', out]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('skipped 3 bad rows');
    const labels = readFileSync(out, 'utf8')
      .trim()
      .split('\n')
      .slice(1)
      .map((l) => Number(l.split(',')[0]));
    expect(labels).toEqual([1, 4, 6]);
  });
});
