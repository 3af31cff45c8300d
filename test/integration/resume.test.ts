import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { aeflow } from '../cli/cli.js';
import { fixture, repoRoot, tempDir } from '../helpers.js';

const EPOCHS = 120;
const tmp = tempDir();
afterAll(tmp.cleanup);
// Every epoch prints its line: the interrupted runs are stopped at an epoch they have reported.
const args = (out: string, extra: string[] = []) => [
  'run',
  fixture('tiny.yaml'),
  '--out',
  out,
  '--set',
  `train.epochs=${EPOCHS}`,
  '--set',
  'train.log_every=1',
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

interface Stopped {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
  /** The last epoch the run had printed when the signal was sent. */
  readonly at: number;
}

/**
 * Starts a run and sends `signal` at the first epoch line from `epoch` on at which the run folder holds a
 * checkpoint (written aside and renamed: when it is there, it is whole). Resolves once the child has exited.
 */
function interrupt(out: string, epoch: number, signal: NodeJS.Signals, extra: string[] = []): Promise<Stopped> {
  const child = spawn(process.execPath, [path.join(repoRoot, 'dist', 'cli', 'main.js'), ...args(out, extra)], { cwd: repoRoot });
  let stdout = '';
  let stderr = '';
  let at = 0;
  child.stdout.setEncoding('utf8');
  child.stderr.setEncoding('utf8');
  child.stdout.on('data', (d: string) => {
    stdout += d;
    if (at > 0) return;
    const printed = [...stdout.matchAll(/^epoch +(\d+)\//gm)].map((m) => Number(m[1]));
    const last = printed[printed.length - 1] ?? 0;
    if (last >= epoch && existsSync(path.join(out, 'checkpoint.aeckpt'))) {
      at = last;
      child.kill(signal);
    }
  });
  child.stderr.on('data', (d: string) => (stderr += d));
  return new Promise((resolve) => child.on('close', (code, sig) => resolve({ code, signal: sig, stdout, stderr, at })));
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
    // ended by the kill, at the epoch it was sent
    expect(killed.signal, killed.stderr).toBe('SIGKILL');
    expect(killed.at).toBeGreaterThanOrEqual(10);
    expect(killed.at).toBeLessThan(EPOCHS);
    expect(existsSync(path.join(out, 'summary.json'))).toBe(false);
    // the epoch's console line comes just before its metrics line: the kill may fall between them
    expect(metricLines(out).length).toBeGreaterThanOrEqual(killed.at - 1);
    expect(metricLines(out).length).toBeLessThan(EPOCHS);

    const resumed = aeflow(['run', '--resume', out]);
    expect(resumed.code, resumed.stderr).toBe(0);
    const from = Number(/resuming .* after epoch (\d+)/.exec(resumed.stdout)?.[1]);
    expect(from).toBeGreaterThanOrEqual(1);
    expect(from).toBeLessThanOrEqual(killed.at);
    expect(summary(out).test_loss).toBe(reference);
    const epochs = metricLines(out).map((l) => JSON.parse(l).epoch);
    expect(epochs).toEqual(Array.from({ length: EPOCHS }, (_, i) => i + 1));
  });

  it('SIGINT stops cleanly with a checkpoint and says how to resume; resuming gives the same result', async () => {
    const out = path.join(tmp.dir, 'interrupted');
    const stopped = await interrupt(out, 5, 'SIGINT');
    expect(stopped.code, stopped.stderr).toBe(130);
    expect(stopped.stderr).toMatch(
      /error \[INTERRUPTED\]: stopped (at epoch \d+, after \d+ batch(es)? of it|after epoch \d+); a checkpoint of that point was written/,
    );
    expect(stopped.stderr).toContain(`aeflow run --resume`);
    expect(stopped.stderr).not.toMatch(/^\s+at /m);
    expect(metricLines(out).length).toBeLessThan(EPOCHS);
    const resumed = aeflow(['run', '--resume', out]);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(summary(out).test_loss).toBe(reference);
  });

  it('with two workers (parameters and Adam state split between them), a schedule and weight decay, resuming gives the same result too', async () => {
    // the warm-up spans the first epochs and the cosine moves every epoch: a resume at the wrong step changes the result
    const schedule = 'train.schedule={type: cosine, min_lr: 0.001, warmup_steps: 40}';
    const two = ['--set', 'train.workers=2', '--set', 'train.epochs=25', '--set', schedule, '--set', 'train.weight_decay=0.01'];
    const whole = path.join(tmp.dir, 'two-whole');
    const r = aeflow([...args(whole), ...two]);
    expect(r.code, r.stderr).toBe(0);
    const out = path.join(tmp.dir, 'two-interrupted');
    const stopped = await interrupt(out, 5, 'SIGINT', two);
    expect(stopped.code, stopped.stderr).toBe(130);
    expect(metricLines(out).length).toBeLessThan(25);
    const resumed = aeflow(['run', '--resume', out]);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(summary(out).workers).toBe(2);
    expect(summary(out).test_loss).toBe(summary(whole).test_loss);
  });

  it('resuming a folder without a checkpoint is a clear error', () => {
    const r = aeflow(['run', '--resume', path.join(tmp.dir, 'nothing')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('error [CHECKPOINT_NOT_FOUND]');
  });
});
