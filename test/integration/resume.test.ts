import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { aeflow } from '../cli/cli.js';
import { fixture, repoRoot, tempDir } from '../helpers.js';

const EPOCHS = 120;
const tmp = tempDir();
afterAll(tmp.cleanup);
const args = (out: string, extra: string[] = []) => [
  'run',
  fixture('tiny.yaml'),
  '--out',
  out,
  '--set',
  `train.epochs=${EPOCHS}`,
  '--set',
  'train.log_every=1000',
  '--set',
  'snapshots.every=0',
  ...extra,
];
const summary = (dir: string) => JSON.parse(readFileSync(path.join(dir, 'summary.json'), 'utf8'));
const metricLines = (dir: string) => {
  try {
    return readFileSync(path.join(dir, 'metrics.jsonl'), 'utf8').trim().split('\n').filter(Boolean);
  } catch {
    return [];
  }
};

/** Starts a run, waits until it has finished `epochs` epochs, sends `signal`, resolves with exit code and stderr. */
function interrupt(
  out: string,
  epochs: number,
  signal: NodeJS.Signals,
  extra: string[] = [],
): Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }> {
  const child = spawn(process.execPath, [path.join(repoRoot, 'dist', 'cli', 'main.js'), ...args(out, extra)], { cwd: repoRoot });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  const poll = setInterval(() => {
    if (metricLines(out).length >= epochs) {
      clearInterval(poll);
      child.kill(signal);
    }
  }, 10);
  return new Promise((resolve) =>
    child.on('exit', (code, sig) => {
      clearInterval(poll);
      resolve({ code, signal: sig, stderr });
    }),
  );
}

describe('checkpoints and resume', () => {
  let reference: number;

  it('an uninterrupted run writes a checkpoint beside its outputs', () => {
    const out = path.join(tmp.dir, 'whole');
    const r = aeflow(args(out));
    expect(r.code, r.stderr).toBe(0);
    expect(existsSync(path.join(out, 'checkpoint.aeckpt'))).toBe(true);
    reference = summary(out).test_loss;
    expect(metricLines(out)).toHaveLength(EPOCHS);
  });

  it('a run killed with kill -9 and resumed ends with the same test loss as the run left alone', async () => {
    const out = path.join(tmp.dir, 'killed');
    const killed = await interrupt(out, 10, 'SIGKILL');
    expect(killed.signal).toBe('SIGKILL');
    expect(existsSync(path.join(out, 'summary.json'))).toBe(false);
    const done = metricLines(out).length;
    expect(done).toBeGreaterThanOrEqual(10);
    expect(done).toBeLessThan(EPOCHS);

    const resumed = aeflow(['run', '--resume', out]);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.stdout).toMatch(/resuming .* after epoch \d+/);
    expect(Math.abs(summary(out).test_loss - reference)).toBeLessThan(1e-6);
    const epochs = metricLines(out).map((l) => JSON.parse(l).epoch);
    expect(epochs).toEqual(Array.from({ length: EPOCHS }, (_, i) => i + 1));
  });

  it('SIGINT stops cleanly with a checkpoint and says how to resume; resuming gives the same result', async () => {
    const out = path.join(tmp.dir, 'interrupted');
    const stopped = await interrupt(out, 5, 'SIGINT');
    expect(stopped.code).toBe(130);
    expect(stopped.stderr).toContain('error [INTERRUPTED]');
    expect(stopped.stderr).toContain(`aeflow run --resume`);
    expect(stopped.stderr).not.toMatch(/^\s+at /m);
    const resumed = aeflow(['run', '--resume', out]);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(Math.abs(summary(out).test_loss - reference)).toBeLessThan(1e-6);
  });

  it('with two workers (parameters and Adam state split between them), resuming gives the same result too', async () => {
    const two = ['--set', 'train.workers=2', '--set', 'train.epochs=25'];
    const whole = path.join(tmp.dir, 'two-whole');
    const r = aeflow([...args(whole), ...two]);
    expect(r.code, r.stderr).toBe(0);
    const out = path.join(tmp.dir, 'two-interrupted');
    const stopped = await interrupt(out, 5, 'SIGINT', two);
    expect(stopped.code).toBe(130);
    expect(metricLines(out).length).toBeLessThan(25);
    const resumed = aeflow(['run', '--resume', out]);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(summary(out).workers).toBe(2);
    expect(Math.abs(summary(out).test_loss - summary(whole).test_loss)).toBeLessThan(1e-6);
  });

  it('resuming a folder without a checkpoint is a clear error', () => {
    const r = aeflow(['run', '--resume', path.join(tmp.dir, 'nothing')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('error [CHECKPOINT_NOT_FOUND]');
  });
});
