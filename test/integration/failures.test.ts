import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { aeflow } from '../cli/cli.js';
import { fixture, tempDir } from '../helpers.js';

const tmp = tempDir();
afterAll(tmp.cleanup);
const tiny = fixture('tiny.yaml');

describe('failures end clearly, and keep what was saved', () => {
  it('a worker that dies: a coded error naming the cause, exit 1, the last checkpoint intact and resumable', () => {
    const out = path.join(tmp.dir, 'crash');
    const r = aeflow(['run', tiny, '--out', out, '--set', 'train.epochs=8'], undefined, { AEFLOW_FAULT: 'exit:step:20' });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('error [WORKER_FAILED]: worker 0 failed during "step": worker exited with code: 3');
    expect(r.stderr).not.toMatch(/^\s+at /m);
    expect(existsSync(path.join(out, 'checkpoint.aeckpt'))).toBe(true);
    const resumed = aeflow(['run', '--resume', out]);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(JSON.parse(readFileSync(path.join(out, 'summary.json'), 'utf8')).epochs).toBe(8);
  });

  it('a worker that throws: the error says what it threw', () => {
    const r = aeflow(['run', tiny, '--out', path.join(tmp.dir, 'throw'), '--set', 'train.epochs=2'], undefined, { AEFLOW_FAULT: 'throw:evaluate:1' });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('error [WORKER_FAILED]: worker: injected fault in evaluate #1');
  });

  it('a loss that becomes NaN stops training with a clear message', () => {
    const r = aeflow([
      'run',
      tiny,
      '--out',
      path.join(tmp.dir, 'nan'),
      '--set',
      'model.activation=linear',
      '--set',
      'optimizer.type=sgd',
      '--set',
      'optimizer.learning_rate=1000',
      '--set',
      'train.epochs=3',
    ]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/error \[TRAINING_DIVERGED\]: the training loss became (NaN|Infinity) at epoch 1, batch \d+/);
    expect(r.stderr).toContain('lower optimizer.learning_rate');
  });

  it('memory stays flat across epochs: the worker holds as many live tensors after the 60th epoch as after the first', () => {
    const out = path.join(tmp.dir, 'flat');
    const r = aeflow(['run', tiny, '--out', out, '--set', 'train.epochs=60', '--set', 'train.log_every=100', '--set', 'snapshots.every=0']);
    expect(r.code, r.stderr).toBe(0);
    const metrics = readFileSync(path.join(out, 'metrics.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(metrics).toHaveLength(60);
    const tensors = metrics.map((m) => m.tensors);
    // the model's variables and the optimizer's moments at least: a count that is there to compare
    expect(tensors[0]).toBeGreaterThan(4);
    expect(tensors).toEqual(new Array(60).fill(tensors[0]));
  });
});

describe('run folders', () => {
  it('a run never overwrites an earlier one: runs/<name>, then runs/<name>-2', () => {
    const cwd = path.join(tmp.dir, 'project');
    mkdirSync(cwd);
    for (let i = 0; i < 2; i++) {
      const r = aeflow(['run', tiny, '--set', 'train.epochs=1', '--set', `cache.dir=${path.join(tmp.dir, 'cache')}`], cwd);
      expect(r.code, r.stderr).toBe(0);
    }
    expect(readdirSync(path.join(cwd, 'runs')).sort()).toEqual(['tiny', 'tiny-2']);
  });

  it('an explicit --out that holds a run needs --force', () => {
    const out = path.join(tmp.dir, 'project', 'runs', 'tiny');
    const refused = aeflow(['run', tiny, '--out', out, '--set', 'train.epochs=1']);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('already holds files');
    expect(aeflow(['run', tiny, '--out', out, '--force', '--set', 'train.epochs=1']).code).toBe(0);
  });
});
