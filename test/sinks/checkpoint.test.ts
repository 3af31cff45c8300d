import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { AeflowError } from '../../src/errors.js';
import { type Checkpoint, CHECKPOINT_VERSION, CheckpointWriter, readCheckpoint, writeCheckpoint } from '../../src/sinks/checkpoint.js';
import { tempDir } from '../helpers.js';

const tmp = tempDir();
afterAll(tmp.cleanup);

const checkpoint = (version: number): Checkpoint =>
  ({
    version,
    epoch: 3,
    phase: 0,
    phaseEpoch: 3,
    batches: 0,
    partial: { rows: 0, loss: 0, terms: {} },
    knownRows: 96,
    metrics: [],
    written: new Date().toISOString(),
    state: {
      weights: [Float32Array.from([1, 2, 3, 4]), Float32Array.from([0.5, -0.5])],
      optimizer: [
        { name: '0/m', shape: [4], data: Float32Array.from([0.1, 0.2, 0.3, 0.4]) },
        { name: '0/v', shape: [4], data: Float32Array.from([1, 1, 1, 1]) },
      ],
      adamPowers: [0.9 ** 3, 0.999 ** 3],
      draws: 7,
    },
  }) as Checkpoint;

describe('checkpoint files', () => {
  it('read back what was written, arrays and all', async () => {
    await writeCheckpoint(tmp.dir, checkpoint(CHECKPOINT_VERSION));
    const back = readCheckpoint(tmp.dir);
    expect(back.epoch).toBe(3);
    expect(back.state.weights.map((w) => Array.from(w))).toEqual([
      [1, 2, 3, 4],
      [0.5, -0.5],
    ]);
    expect(Array.from(back.state.optimizer[0].data)).toEqual(Array.from(Float32Array.from([0.1, 0.2, 0.3, 0.4])));
    expect(back.state.adamPowers).toEqual([0.9 ** 3, 0.999 ** 3]);
    expect(back.state.draws).toBe(7);
    expect(back.best).toBeUndefined();
  });

  it("early stopping's best weights come back after the state's arrays, with their epoch", async () => {
    const best = { epoch: 2, weights: [Float32Array.from([9, 8, 7, 6]), Float32Array.from([-1, 1])] };
    await writeCheckpoint(tmp.dir, { ...checkpoint(CHECKPOINT_VERSION), best });
    const back = readCheckpoint(tmp.dir);
    expect(back.best?.epoch).toBe(2);
    expect(back.best?.weights.map((w) => Array.from(w))).toEqual([
      [9, 8, 7, 6],
      [-1, 1],
    ]);
    expect(back.state.weights.map((w) => Array.from(w))).toEqual([
      [1, 2, 3, 4],
      [0.5, -0.5],
    ]);
  });

  it('a checkpoint of an older format is a clear error, not a wrong resume', async () => {
    await writeCheckpoint(tmp.dir, checkpoint(1));
    let error: unknown;
    try {
      readCheckpoint(tmp.dir);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(AeflowError);
    expect((error as AeflowError).code).toBe('CHECKPOINT_INVALID');
    expect((error as AeflowError).message).toContain('format 1');
  });

  it('the writer writes checkpoints in order while the caller goes on; a failure is a coded error at the end', async () => {
    const dir = path.join(tmp.dir, 'writer');
    mkdirSync(dir);
    const writer = new CheckpointWriter(dir);
    for (const epoch of [4, 5, 6]) writer.write({ ...checkpoint(CHECKPOINT_VERSION), epoch });
    await writer.settled();
    expect(readCheckpoint(dir).epoch).toBe(6);

    const lost = new CheckpointWriter(path.join(tmp.dir, 'no-such-folder'));
    lost.write(checkpoint(CHECKPOINT_VERSION));
    const error = await lost.settled().catch((e) => e);
    expect(error).toBeInstanceOf(AeflowError);
    expect(error.code).toBe('CHECKPOINT_WRITE_FAILED');
    expect(error.message).toMatch(/no-such-folder.*checkpoint of epoch 3 \(ENOENT/);
  });
});
