import { createRequire } from 'node:module';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { TrainingEvent } from '../../src/pipeline/train.js';
import { backendLines } from '../../src/sinks/consoleLog.js';
import { BadRows, skippedMessage } from '../../src/sources/badRows.js';
import { AeflowError } from '../../src/errors.js';
import { fixture, repoRoot, tempDir } from '../helpers.js';
import { aeflow } from './cli.js';

const bad = (line: number) => new AeflowError('CSV_VALUE_INVALID', `x.csv:${line}:2: column 2 holds "abc", expected a finite number`);

describe('the skipped-rows message, one for every command', () => {
  it('one row: singular, the line and its message', () => {
    const rows = new BadRows();
    rows.add(30, bad(30));
    expect(skippedMessage(rows.skipped, 'train')).toBe(
      'skipped 1 bad train row (on_bad_row: skip), at line 30: x.csv:30:2: column 2 holds "abc", expected a finite number',
    );
  });

  it('several rows: plural, the lines, the first message; an ellipsis past the lines kept', () => {
    const rows = new BadRows();
    for (const line of [31, 30]) rows.add(line, bad(line));
    expect(skippedMessage(rows.skipped)).toBe(
      'skipped 2 bad rows (on_bad_row: skip), at lines 30, 31; the first: x.csv:30:2: column 2 holds "abc", expected a finite number',
    );
    for (let line = 40; line < 60; line++) rows.add(line, bad(line));
    expect(skippedMessage(rows.skipped, 'test')).toMatch(
      /^skipped 22 bad test rows \(on_bad_row: skip\), at lines 30, 31, 40, .*, 47, …; the first: x\.csv:30:2/,
    );
  });
});

type Start = Extract<TrainingEvent, { type: 'start' }>;
const start = (skipped: Start['skipped']): Start => ({
  type: 'start',
  pipeline: 'p',
  dataflow: '',
  backend: 'wasm',
  skipped,
  matMul: 'native avx512',
  workers: 2,
  parameters: 494196,
  phases: [],
  objective: { id: 'half-mse', label: 'half-mse', description: '0.5·MSE of the reconstruction against the input' },
});
const absent = { name: 'tensorflow', reason: "Cannot find package '@tensorflow/tfjs-node' imported from /x/dist/backend.js" } as const;

describe('the backend line', () => {
  it('says briefly that tfjs-node is not installed when that is why auto skipped it', () => {
    expect(backendLines(start([absent]), false)).toEqual(['backend: wasm (tfjs-node not installed; matMul: native avx512), 2 workers, 494,196 parameters']);
  });

  it('keeps the full reason with --verbose, and for any other reason', () => {
    expect(backendLines(start([absent]), true)).toEqual([
      `backend: tensorflow unavailable (${absent.reason})`,
      'backend: wasm (matMul: native avx512), 2 workers, 494,196 parameters',
    ]);
    const broken = { name: 'tensorflow', reason: 'libtensorflow.so.2: cannot open shared object file' } as const;
    expect(backendLines(start([broken]), false)[0]).toBe(`backend: tensorflow unavailable (${broken.reason})`);
  });

  const tfjsNode = (() => {
    try {
      createRequire(path.join(repoRoot, 'package.json')).resolve('@tensorflow/tfjs-node');
      return true;
    } catch {
      return false;
    }
  })();

  describe.skipIf(tfjsNode)('of a run where tfjs-node is not installed', () => {
    const tmp = tempDir();
    afterAll(tmp.cleanup);
    const run = (...extra: string[]) =>
      aeflow([
        'run',
        fixture('tiny.yaml'),
        '--out',
        path.join(tmp.dir, 'run'),
        '--force',
        '--set',
        'train.epochs=1',
        '--set',
        'outputs.evaluate=false',
        '--set',
        `cache.dir=${path.join(tmp.dir, 'cache')}`,
        ...extra,
      ]);

    it('is one line that does not read like an error', () => {
      const r = run();
      expect(r.code, r.stderr).toBe(0);
      const lines = r.stdout.split('\n').filter((l) => l.startsWith('backend:'));
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(/^backend: (wasm|cpu) \(tfjs-node not installed[;)]/);
      expect(r.stdout).not.toContain('unavailable');
      expect(r.stdout).toContain('after 1 epoch;');
    });

    it('--verbose adds the full reason', () => {
      const r = run('--verbose');
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toMatch(/^backend: tensorflow unavailable \(Cannot find package '@tensorflow\/tfjs-node'/m);
    });
  });
});
