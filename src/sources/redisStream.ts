import { Redis } from 'ioredis';
import { AeflowError } from '../errors.js';
import type { StreamAddress } from './streamUrl.js';

export { isRedisUrl, parseStreamUrl, type StreamAddress, sameServer } from './streamUrl.js';

/**
 * A connection to the server of `address`, connected. ioredis reconnects on its own when the connection drops
 * and sends again what was in flight; a command still unanswered after 20 reconnection attempts fails, and so
 * does the connection itself when the server cannot be reached at first. `log` hears of losses and returns.
 */
export async function connectRedis(
  address: StreamAddress,
  log: (line: string) => void,
  /** What the log line about a loss says is kept meanwhile. */
  kept = 'what is not acknowledged stays pending',
): Promise<Redis> {
  const redis = new Redis({
    host: address.host,
    port: address.port,
    username: address.username,
    password: address.password,
    lazyConnect: true,
    maxRetriesPerRequest: 20,
    retryStrategy: (times) => Math.min(100 * times, 2000),
  });
  let lost = false;
  let connected = false;
  // Without a listener, ioredis reports every failed attempt as an unhandled error event.
  redis.on('error', () => undefined);
  redis.on('close', () => {
    // A first connection that fails is an error of its own (below), not a loss.
    if (redis.status === 'end' || lost || !connected) return;
    lost = true;
    log(`redis: lost the connection to ${address.host}:${address.port}; reconnecting (${kept})`);
  });
  redis.on('ready', () => {
    connected = true;
    if (!lost) return;
    lost = false;
    log(`redis: reconnected to ${address.host}:${address.port}`);
  });
  try {
    await redis.connect();
  } catch (e) {
    redis.disconnect();
    throw new AeflowError(
      'REDIS_UNAVAILABLE',
      `cannot reach Redis at ${address.host}:${address.port} (${(e as Error).message})`,
      'check that redis-server runs there and that the address is right',
    );
  }
  return redis;
}

/** A Redis failure as a coded error: what went wrong, and that nothing unacknowledged is lost. */
export function redisError(e: unknown, address: StreamAddress, group?: string): unknown {
  if (e instanceof AeflowError || !(e instanceof Error)) return e;
  if (/^NOGROUP/.test(e.message)) {
    return new AeflowError(
      'REDIS_GROUP_MISSING',
      `${address.text}: the consumer group ${group ?? ''} is gone (${e.message}); was Redis restarted without persistence, or the stream deleted?`,
      'results written so far are in the output stream; check what the input stream still holds, then start the consumers again',
    );
  }
  return new AeflowError(
    'REDIS_UNAVAILABLE',
    `${address.text}: ${e.message}`,
    'entries not acknowledged stay pending in the group: start the consumer again (with the same --consumer to take up its own) once Redis is back',
  );
}

/** One entry of a stream: its ID and its `row` field (null when it has none). */
export interface StreamEntry {
  readonly id: string;
  readonly row: string | null;
  /** Its fields' names, for a message about an entry without `row`. */
  readonly fields: readonly string[];
}

type RawEntry = [id: string, fields: string[] | null];

function entryOf([id, fields]: RawEntry): StreamEntry {
  const f = fields ?? [];
  const names: string[] = [];
  let row: string | null = null;
  for (let i = 0; i + 1 < f.length; i += 2) {
    names.push(f[i]);
    if (f[i] === 'row') row = f[i + 1];
  }
  return { id, row, fields: names };
}

/**
 * One consumer of a stream's consumer group: reads its share of new entries (XREADGROUP), takes up what it
 * held before a restart, claims entries other consumers left pending too long (XAUTOCLAIM), and acknowledges
 * what it has answered (XACK). Blocking reads have a connection of their own, so that acknowledgements and
 * claims do not wait behind them.
 */
export class StreamGroupReader {
  private cursor = '0-0';

  /** Whether the last claim reached the end of the pending list (the next one starts over). */
  get sweptAll(): boolean {
    return this.cursor === '0-0';
  }

  constructor(
    private readonly blocking: Redis,
    private readonly commands: Redis,
    readonly address: StreamAddress,
    readonly group: string,
    readonly consumer: string,
  ) {}

  /** Creates the group at the start of the stream (and the stream) unless it exists. */
  async ensureGroup(): Promise<void> {
    try {
      await this.commands.xgroup('CREATE', this.address.stream, this.group, '0', 'MKSTREAM');
    } catch (e) {
      if (!/^BUSYGROUP/.test((e as Error).message)) throw redisError(e, this.address, this.group);
    }
  }

  /** Up to `count` entries never delivered to the group, waiting up to `blockMs` for some to arrive. */
  async readNew(count: number, blockMs: number): Promise<StreamEntry[]> {
    return this.read(this.blocking, count, '>', blockMs);
  }

  /** Entries delivered to this consumer before and not acknowledged (a restart with the same name), after `after`. */
  async readOwn(count: number, after: string): Promise<StreamEntry[]> {
    return this.read(this.commands, count, after, null);
  }

  /**
   * Up to `count` entries pending longer than `minIdleMs` with any consumer, now this one's; successive calls
   * sweep the pending list, and start over after its end.
   */
  async claim(minIdleMs: number, count: number): Promise<StreamEntry[]> {
    try {
      const reply = (await this.commands.xautoclaim(this.address.stream, this.group, this.consumer, minIdleMs, this.cursor, 'COUNT', count)) as [
        string,
        RawEntry[],
        string[]?,
      ];
      this.cursor = reply[0];
      return reply[1].filter((e) => e !== null).map(entryOf);
    } catch (e) {
      throw redisError(e, this.address, this.group);
    }
  }

  /** Entries of the group delivered and not yet acknowledged, with any of its consumers. */
  async pending(): Promise<number> {
    try {
      const [count] = (await this.commands.xpending(this.address.stream, this.group)) as [number, ...unknown[]];
      return Number(count);
    } catch (e) {
      throw redisError(e, this.address, this.group);
    }
  }

  async ack(ids: readonly string[]): Promise<void> {
    if (ids.length === 0) return;
    try {
      await this.commands.xack(this.address.stream, this.group, ...ids);
    } catch (e) {
      throw redisError(e, this.address, this.group);
    }
  }

  private async read(redis: Redis, count: number, id: string, blockMs: number | null): Promise<StreamEntry[]> {
    try {
      const reply = (
        blockMs === null
          ? await redis.xreadgroup('GROUP', this.group, this.consumer, 'COUNT', count, 'STREAMS', this.address.stream, id)
          : await redis.xreadgroup('GROUP', this.group, this.consumer, 'COUNT', count, 'BLOCK', blockMs, 'STREAMS', this.address.stream, id)
      ) as Array<[string, RawEntry[]]> | null;
      return reply?.[0]?.[1].map(entryOf) ?? [];
    } catch (e) {
      throw redisError(e, this.address, this.group);
    }
  }
}

/**
 * A stream read in order from an entry ID the caller keeps, with no consumer group: one reader (a training run,
 * whose checkpoint records the ID) that nothing else needs to know about. Nothing is acknowledged or removed.
 */
export class StreamCursor {
  constructor(
    private readonly redis: Redis,
    readonly address: StreamAddress,
  ) {}

  /** Up to `count` entries after the ID `after` (XREAD), waiting up to `blockMs` for one while there are none. */
  async readAfter(after: string, count: number, blockMs: number): Promise<StreamEntry[]> {
    try {
      const reply = (await this.redis.xread('COUNT', count, 'BLOCK', blockMs, 'STREAMS', this.address.stream, after)) as Array<[string, RawEntry[]]> | null;
      return reply?.[0]?.[1].map(entryOf) ?? [];
    } catch (e) {
      throw cursorError(e, this.address);
    }
  }

  /** Up to `count` entries after the ID `after` that the stream holds now (XRANGE from an exclusive start). */
  async range(after: string, count: number): Promise<StreamEntry[]> {
    try {
      const reply = (await this.redis.xrange(this.address.stream, `(${after}`, '+', 'COUNT', count)) as RawEntry[];
      return reply.map(entryOf);
    } catch (e) {
      throw cursorError(e, this.address);
    }
  }
}

function cursorError(e: unknown, address: StreamAddress): unknown {
  if (e instanceof AeflowError || !(e instanceof Error)) return e;
  return new AeflowError(
    'REDIS_UNAVAILABLE',
    `${address.text}: ${e.message}`,
    /^WRONGTYPE/.test(e.message)
      ? `the key ${address.stream} holds no stream: point data.train at a stream (XADD ${address.stream} * row ...)`
      : "the run's checkpoint records the last entry it trained on: once Redis is back, go on with aeflow run --resume RUN_FOLDER",
  );
}
