import { afterAll, describe, expect, it } from 'vitest';
import { AeflowError } from '../../src/errors.js';
import { type Checkpoint, CHECKPOINT_VERSION, readCheckpoint, writeCheckpoint } from '../../src/sinks/checkpoint.js';
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
  it('read back what was written, arrays and all', () => {
    writeCheckpoint(tmp.dir, checkpoint(CHECKPOINT_VERSION));
    const back = readCheckpoint(tmp.dir);
    expect(back.epoch).toBe(3);
    expect(back.state.weights.map((w) => Array.from(w))).toEqual([
      [1, 2, 3, 4],
      [0.5, -0.5],
    ]);
    expect(Array.from(back.state.optimizer[0].data)).toEqual(Array.from(Float32Array.from([0.1, 0.2, 0.3, 0.4])));
    expect(back.state.adamPowers).toEqual([0.9 ** 3, 0.999 ** 3]);
    expect(back.state.draws).toBe(7);
  });

  it('a checkpoint of an older format is a clear error, not a wrong resume', () => {
    writeCheckpoint(tmp.dir, checkpoint(1));
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
});
