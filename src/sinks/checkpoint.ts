import { promises as fs, readFileSync } from 'node:fs';
import path from 'node:path';
import { AeflowError } from '../errors.js';
import type { Checkpoint } from '../types.js';

export type { Checkpoint } from '../types.js';

const MAGIC = 'AEFLOWCK';
export const CHECKPOINT_VERSION = 2;
export const CHECKPOINT_FILE = 'checkpoint.aeckpt';

/**
 * Writes a checkpoint atomically: to a file aside, flushed to disk, then renamed over the previous one, so a
 * crash mid-write leaves the previous checkpoint whole. Layout: magic, a JSON header, then the arrays.
 */
export async function writeCheckpoint(dir: string, checkpoint: Checkpoint): Promise<string> {
  const best = checkpoint.best;
  const arrays: Float32Array[] = [...checkpoint.state.weights, ...checkpoint.state.optimizer.map((o) => o.data), ...(best?.weights ?? [])];
  const header = {
    ...checkpoint,
    state: {
      draws: checkpoint.state.draws,
      adamPowers: checkpoint.state.adamPowers,
      weights: checkpoint.state.weights.map((w) => w.length),
      optimizer: checkpoint.state.optimizer.map((o) => ({ name: o.name, shape: o.shape, length: o.data.length })),
    },
    ...(best ? { best: { epoch: best.epoch, weights: best.weights.map((w) => w.length) } } : {}),
  };
  const json = Buffer.from(JSON.stringify(header));
  const prefix = Buffer.alloc(16);
  prefix.write(MAGIC, 0, 'ascii');
  prefix.writeUInt32LE(json.length, 8);
  const pad = Buffer.alloc((4 - ((16 + json.length) % 4)) % 4);
  const file = path.join(dir, CHECKPOINT_FILE);
  const partial = `${file}.partial`;
  const handle = await fs.open(partial, 'w');
  try {
    await handle.writev([prefix, json, pad, ...arrays.map((a) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength))]);
    await handle.sync();
  } finally {
    await handle.close();
  }
  await fs.rename(partial, file);
  return file;
}

/**
 * Writes a run's checkpoints one after another while training goes on: flushing the reference model's ~6 MB to
 * disk took ~100 ms, which a synchronous write made the workers wait for after every epoch. `settled()` waits
 * for the last one and throws the first failure.
 */
export class CheckpointWriter {
  private chain: Promise<void> = Promise.resolve();
  private failure: unknown = null;

  constructor(private readonly dir: string) {}

  write(checkpoint: Checkpoint): void {
    this.chain = this.chain
      .then(() => writeCheckpoint(this.dir, checkpoint))
      .then(
        () => undefined,
        (e) => {
          this.failure ??= new AeflowError(
            'CHECKPOINT_WRITE_FAILED',
            `${path.join(this.dir, CHECKPOINT_FILE)}: could not write the checkpoint of epoch ${checkpoint.epoch} (${(e as Error).message})`,
            'free disk space or fix the run folder (the model and other outputs were written; the run cannot be resumed from that checkpoint)',
          );
        },
      );
  }

  async settled(): Promise<void> {
    await this.chain;
    if (this.failure) throw this.failure;
  }
}

/** Reads the checkpoint of a run folder. */
export function readCheckpoint(dir: string): Checkpoint {
  const file = path.join(dir, CHECKPOINT_FILE);
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch {
    throw new AeflowError(
      'CHECKPOINT_NOT_FOUND',
      `${file}: no checkpoint`,
      'resume a run folder written by `aeflow run` after at least one checkpoint (checkpoints.every)',
    );
  }
  if (bytes.length < 16 || bytes.toString('ascii', 0, 8) !== MAGIC) {
    throw new AeflowError('CHECKPOINT_INVALID', `${file}: not an aeflow checkpoint`, 'the file is damaged; start the run again');
  }
  const length = bytes.readUInt32LE(8);
  const header = JSON.parse(bytes.toString('utf8', 16, 16 + length));
  if (header.version !== CHECKPOINT_VERSION) {
    throw new AeflowError(
      'CHECKPOINT_INVALID',
      `${file}: a checkpoint of format ${header.version}, this aeflow reads format ${CHECKPOINT_VERSION}`,
      'it was written by another version of aeflow: resume it with that version, or start the run again',
    );
  }
  let offset = 16 + length;
  offset += (4 - (offset % 4)) % 4;
  const take = (n: number) => {
    if (offset + 4 * n > bytes.length) throw new AeflowError('CHECKPOINT_INVALID', `${file}: truncated`, 'the file is damaged; start the run again');
    const a = new Float32Array(n);
    new Uint8Array(a.buffer).set(bytes.subarray(offset, offset + 4 * n));
    offset += 4 * n;
    return a;
  };
  const weights = (header.state.weights as number[]).map((n) => take(n));
  const optimizer = (header.state.optimizer as Array<{ name: string; shape: number[]; length: number }>).map((o) => ({
    name: o.name,
    shape: o.shape,
    data: take(o.length),
  }));
  const state = { weights, optimizer, adamPowers: header.state.adamPowers ?? null, draws: header.state.draws };
  // Early stopping's best weights follow the state's arrays (checkpoints without it end there).
  const best = header.best ? { epoch: header.best.epoch as number, weights: (header.best.weights as number[]).map((n) => take(n)) } : undefined;
  return { ...header, state, ...(best ? { best } : {}) };
}
