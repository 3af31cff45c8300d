import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { fixture, repoRoot, tempDir } from '../helpers.js';
import { aeflow } from './cli.js';

const tmp = tempDir();
afterAll(tmp.cleanup);
const project = path.join(tmp.dir, 'project');
mkdirSync(project);
const cache = ['--set', `cache.dir=${path.join(tmp.dir, 'cache')}`];
/** `aeflow run tiny.yaml` in the project folder: one quick epoch, no evaluation. */
const run = (...extra: string[]) =>
  aeflow(['run', fixture('tiny.yaml'), '--set', 'train.epochs=1', '--set', 'outputs.evaluate=false', ...cache, ...extra], project);
const runs = () => (existsSync(path.join(project, 'runs')) ? readdirSync(path.join(project, 'runs')).sort() : []);
const json = (file: string) => JSON.parse(readFileSync(file, 'utf8'));

describe('run folders appear once training starts', () => {
  it('a run that fails before any work leaves no folder, and the next run takes the name it would have had', () => {
    const failed = run('--set', 'data.train=nope.csv');
    expect(failed.code).toBe(1);
    expect(failed.stderr).toContain('error [CSV_NOT_FOUND]');
    expect(runs()).toEqual([]);

    const first = run();
    expect(first.code, first.stderr).toBe(0);
    expect(runs()).toEqual(['tiny']);
    const mismatch = run('--set', 'model.encoder=[15, 4]');
    expect(mismatch.stderr).toContain('error [CONFIG_DATA_MISMATCH]');
    expect(runs()).toEqual(['tiny']);
    const second = run();
    expect(second.code, second.stderr).toBe(0);
    expect(runs()).toEqual(['tiny', 'tiny-2']);
    expect(second.stdout).toContain('outputs: runs/tiny-2/');
    expect(second.stdout).toContain('after 1 epoch;');
  });

  it('a run that fails once it has started keeps its folder and says where it is', () => {
    const test = path.join(tmp.dir, 'late-bad.csv');
    // The first rows are fine (the check before training passes); the last has a column too few.
    writeFileSync(test, `${readFileSync(fixture('tiny_test.csv'), 'utf8')}1,2,3\n`);
    const r = run('--set', `data.test=${test}`);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('error [CSV_ROW_INVALID]');
    expect(runs()).toEqual(['tiny', 'tiny-2', 'tiny-3']);
    expect(r.stderr).toMatch(/^hint: .*what the run wrote before it failed is in runs\/tiny-3\//m);
  });
});

describe('run --name', () => {
  it('names the folder, the logs, summary.json and pipeline.yaml; a second run of the name takes <name>-2', () => {
    const r = run('--name', 'bars');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^aeflow: bars: csv\(tiny_train\.csv\)/m);
    expect(json(path.join(project, 'runs', 'bars', 'summary.json')).pipeline).toBe('bars');
    expect(readFileSync(path.join(project, 'runs', 'bars', 'pipeline.yaml'), 'utf8')).toMatch(/^name: bars$/m);
    expect(run('--name', 'bars').code).toBe(0);
    expect(runs()).toContain('bars-2');
    // A name that reads as a number stays the name.
    expect(run('--name', '2026').code).toBe(0);
    expect(json(path.join(project, 'runs', '2026', 'summary.json')).pipeline).toBe('2026');
  });

  it('is one folder name', () => {
    const r = run('--name', '../escape');
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('error [USAGE]: --name "../escape"');
    expect(existsSync(path.join(project, 'escape'))).toBe(false);
  });
});

describe('run --resume', () => {
  const finished = path.join(project, 'runs', 'tiny');
  const listing = (dir: string) => readdirSync(dir, { recursive: true }).map(String).sort();
  const stamps = (dir: string) => listing(dir).map((f) => `${f}@${statSync(path.join(dir, f)).mtimeMs}`);

  it('on a finished run says it is complete and where its outputs are, exits 0 and redoes nothing', () => {
    const before = stamps(finished);
    const r = aeflow(['run', '--resume', 'runs/tiny'], project);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`runs/tiny: the run is complete (1 epoch, test loss ${json(path.join(finished, 'summary.json')).test_loss.toFixed(5)})`);
    expect(r.stdout).toMatch(/^outputs: runs\/tiny\/ \(.*summary\.json/m);
    expect(r.stdout).not.toContain('epoch 1/1');
    expect(stamps(finished)).toEqual(before);
  });

  it('--set outputs.* is applied to the run it resumes', () => {
    // A run whose last checkpoint was written but that stopped before its summary (killed while saving).
    const out = path.join(tmp.dir, 'saving');
    const first = aeflow(['run', fixture('tiny.yaml'), '--out', out, '--set', 'train.epochs=2', ...cache]);
    expect(first.code, first.stderr).toBe(0);
    for (const f of ['summary.json', 'evaluation.json', 'anomalies.csv', 'report.html']) rmSync(path.join(out, f));
    const r = aeflow(['run', '--resume', out, '--set', 'outputs.evaluate=false']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/resuming .* after epoch 2/);
    expect(existsSync(path.join(out, 'summary.json'))).toBe(true);
    expect(existsSync(path.join(out, 'report.html'))).toBe(true);
    expect(existsSync(path.join(out, 'evaluation.json'))).toBe(false);
    // The same resume without the --set evaluates, as the run's own pipeline.yaml says.
    rmSync(path.join(out, 'summary.json'));
    expect(aeflow(['run', '--resume', out]).code).toBe(0);
    expect(existsSync(path.join(out, 'evaluation.json'))).toBe(true);
  });

  it('refuses other --set keys, with the reason', () => {
    const r = aeflow(['run', '--resume', 'runs/tiny', '--set', 'outputs.report=false', '--set', 'train.epochs=5'], project);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('error [USAGE]: --resume runs/tiny --set train.epochs=5: a resumed run trains with the settings it started with');
    expect(r.stderr).toContain('only outputs.save_model, outputs.report, outputs.evaluate');
  });

  it('a folder that does not exist is a coded error', () => {
    const r = aeflow(['run', '--resume', 'runs/does-not-exist'], project);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('error [CHECKPOINT_NOT_FOUND]: --resume runs/does-not-exist: no such run folder');
    expect(r.stderr).not.toMatch(/^\s+at /m);
  });

  it('an interrupted run names the resume command as README documents it (npx aeflow)', async () => {
    const out = path.join(tmp.dir, 'interrupted');
    const args = [
      'run',
      fixture('tiny.yaml'),
      '--out',
      out,
      '--set',
      'train.epochs=5000',
      '--set',
      'snapshots.every=0',
      '--set',
      'train.log_every=1',
      ...cache,
    ];
    const child = spawn(process.execPath, [path.join(repoRoot, 'dist', 'cli', 'main.js'), ...args], { cwd: repoRoot });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    // Stopped once, when it reports its first epoch (a second signal would quit at once, without the message).
    let stopped = false;
    child.stdout.on('data', (d) => {
      if (!stopped && /^epoch /m.test(String(d))) {
        stopped = true;
        child.kill('SIGINT');
      }
    });
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    expect(code, stderr).toBe(130);
    expect(stderr).toContain('error [INTERRUPTED]');
    expect(stderr).toContain(`hint: go on with: npx aeflow run --resume ${path.relative(repoRoot, out)}`);
  });
});
