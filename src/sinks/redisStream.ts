import type { Redis } from 'ioredis';
import type { AeflowError } from '../errors.js';
import { redisError, type StreamAddress } from '../sources/redisStream.js';

/** A result to write: the input entry's ID, then field, value, field, value… */
export interface StreamResult {
  readonly inputId: string;
  readonly fields: readonly string[];
}

/** A record that could not be answered, and why. */
export interface DeadLetter {
  readonly inputId: string;
  readonly error: AeflowError;
}

/**
 * Writes answers to an output stream (XADD), each carrying its input entry's ID as `input_id`, so that a reader
 * can drop the duplicates at-least-once delivery makes; records that could not be answered go to `STREAM:dead`
 * with their coded error. One round trip per batch (a pipeline); resolves only once Redis has taken every entry,
 * so the caller can then acknowledge the inputs.
 */
export class StreamWriter {
  readonly deadStream: string;

  constructor(
    private readonly redis: Redis,
    readonly address: StreamAddress,
  ) {
    this.deadStream = `${address.stream}:dead`;
  }

  async write(results: readonly StreamResult[], dead: readonly DeadLetter[]): Promise<void> {
    if (results.length === 0 && dead.length === 0) return;
    const pipeline = this.redis.pipeline();
    for (const r of results) pipeline.xadd(this.address.stream, '*', 'input_id', r.inputId, ...r.fields);
    for (const d of dead) {
      pipeline.xadd(this.deadStream, '*', 'input_id', d.inputId, 'code', d.error.code, 'message', d.error.message, 'hint', d.error.hint ?? '');
    }
    let replies: Array<[Error | null, unknown]> | null;
    try {
      replies = await pipeline.exec();
    } catch (e) {
      throw redisError(e, this.address);
    }
    const failed = replies?.find(([e]) => e !== null)?.[0] ?? (replies ? null : new Error('the pipeline was not run'));
    if (failed) throw redisError(failed, this.address);
  }
}
