import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadPipeline } from '../../src/config/load.js';
import { AeflowError } from '../../src/errors.js';
import { runPipeline } from '../../src/pipeline/run.js';
import type { StartTrainer } from '../../src/pipeline/trainerPort.js';
import { fixture, tempDir } from '../helpers.js';
import { FakeTrainer } from './fakeTrainer.js';

// runPipeline around a fake trainer: the run folder, the summary and the trainer's lifetime, without threads.
const tmp = tempDir();
afterAll(tmp.cleanup);
const quiet = () => undefined;
const offline = ['cache.enabled=false', 'outputs.report=false', 'outputs.save_model=false'];
const failure = (p: Promise<unknown>) =>
  p.then(
    () => null,
    (e: unknown) => e as AeflowError,
  );

describe('runPipeline: the run folder appears only once training starts', () => {
  it('a CSV of the wrong width (CONFIG_DATA_MISMATCH) leaves no folder and starts no trainer', async () => {
    const out = path.join(tmp.dir, 'mismatch');
    let started = 0;
    const startTrainer: StartTrainer = async () => {
      started++;
      return new FakeTrainer();
    };
    const e = await failure(runPipeline(await loadPipeline(fixture('bad_width.yaml'), offline), { out, log: quiet, startTrainer }));
    expect(e?.code).toBe('CONFIG_DATA_MISMATCH');
    expect(started).toBe(0);
    expect(existsSync(out)).toBe(false);
  });

  it('a backend that cannot start (BACKEND_UNAVAILABLE) leaves no folder', async () => {
    const out = path.join(tmp.dir, 'no-backend');
    const startTrainer: StartTrainer = async () => {
      throw new AeflowError('BACKEND_UNAVAILABLE', 'backend tensorflow could not start (no libtensorflow)', 'use --backend auto');
    };
    const e = await failure(runPipeline(await loadPipeline(fixture('tiny.yaml'), offline), { out, log: quiet, startTrainer }));
    expect(e?.code).toBe('BACKEND_UNAVAILABLE');
    expect(existsSync(out)).toBe(false);
  });

  it('a folder that cannot be made closes the trainer that had started', async () => {
    const file = path.join(tmp.dir, 'a-file');
    writeFileSync(file, '');
    const trainer = new FakeTrainer();
    const e = await failure(
      runPipeline(await loadPipeline(fixture('tiny.yaml'), offline), { out: path.join(file, 'run'), log: quiet, startTrainer: async () => trainer }),
    );
    expect((e as NodeJS.ErrnoException).code).toBe('ENOTDIR');
    expect(trainer.closed).toBe(1);
  });

  it('a whole run: pipeline.yaml, metrics, summary with both times, the trainer closed once', async () => {
    const out = path.join(tmp.dir, 'whole');
    const trainer = new FakeTrainer();
    const lines: string[] = [];
    const summary = await runPipeline(await loadPipeline(fixture('tiny.yaml'), [...offline, 'train.epochs=3']), {
      out,
      log: (l) => lines.push(l),
      startTrainer: async () => trainer,
    });
    expect(trainer.closed).toBe(1);
    expect(readFileSync(path.join(out, 'pipeline.yaml'), 'utf8')).toContain('tiny.yaml, resolved');
    expect(readFileSync(path.join(out, 'metrics.jsonl'), 'utf8').trim().split('\n')).toHaveLength(3);
    const saved = JSON.parse(readFileSync(path.join(out, 'summary.json'), 'utf8'));
    expect(saved).toEqual(summary);
    expect(saved.wall_s).toBeGreaterThanOrEqual(saved.to_saved_model_s);
    expect(saved).toMatchObject({ epochs: 3, backend: 'cpu', parameters: 42, objective: 'half-mse' });
    const epochLines = lines.filter((l) => l.startsWith('epoch'));
    expect(epochLines).toHaveLength(3);
    for (const l of epochLines) expect(l).toMatch(/^epoch \d\/3 {2}half-mse: train \S+ {2}test \S+ {2}/);
    expect(lines).toContain("loss: half-mse (0.5·mean squared error) of each row's reconstruction");
  });

  it('a stop: INTERRUPTED with the folder to resume, the checkpoint on disk, the trainer closed', async () => {
    const out = path.join(tmp.dir, 'stopped');
    const abort = new AbortController();
    const trainer = new FakeTrainer({ afterStep: (n) => n === 8 && abort.abort() });
    const e = await failure(
      runPipeline(await loadPipeline(fixture('tiny.yaml'), [...offline, 'train.epochs=3']), {
        out,
        log: quiet,
        signal: abort.signal,
        startTrainer: async () => trainer,
      }),
    );
    expect(e?.code).toBe('INTERRUPTED');
    expect(e?.message).toMatch(/^stopped at epoch 2, after \d batches of it/);
    expect(e?.hint).toContain(`aeflow run --resume ${path.relative(process.cwd(), out)}`);
    expect(existsSync(path.join(out, 'checkpoint.aeckpt'))).toBe(true);
    expect(trainer.closed).toBe(1);
  });
});
