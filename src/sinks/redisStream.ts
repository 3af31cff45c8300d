import { once } from 'node:events';
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
    // ioredis resends single commands after a reconnect but aborts a pipeline cut by the connection's close.
    // Writing the batch again is safe: delivery is at least once, and readers drop duplicates by input_id.
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.writeOnce(results, dead);
      } catch (e) {
        if (attempt >= WRITE_ATTEMPTS || !isConnectionAbort(e)) throw redisError(e, this.address);
        if (this.redis.status !== 'ready') await once(this.redis, 'ready');
      }
    }
  }

  private async writeOnce(results: readonly StreamResult[], dead: readonly DeadLetter[]): Promise<void> {
    const pipeline = this.redis.pipeline();
    for (const r of results) pipeline.xadd(this.address.stream, '*', 'input_id', r.inputId, ...r.fields);
    for (const d of dead) {
      pipeline.xadd(this.deadStream, '*', 'input_id', d.inputId, 'code', d.error.code, 'message', d.error.message, 'hint', d.error.hint ?? '');
    }
    const replies = await pipeline.exec();
    const failed = replies?.find(([e]) => e !== null)?.[0] ?? (replies ? null : new Error('the pipeline was not run'));
    if (failed) throw failed;
  }
}

/** Times a batch's answers are written when the connection drops under them, reconnecting in between. */
const WRITE_ATTEMPTS = 5;

function isConnectionAbort(e: unknown): boolean {
  return e instanceof Error && /connection close|Connection is closed|ECONNRESET|EPIPE/.test(e.message);
}
