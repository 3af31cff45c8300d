import { AeflowError } from '../errors.js';

// Kept apart from redisStream.ts so that reading a pipeline's addresses does not load the Redis client: every
// command checks whether data.train names a stream, and only stream commands connect.

/** A stream on a Redis server, as `redis://[USER:PASSWORD@]HOST[:PORT]/STREAM` names it. */
export interface StreamAddress {
  readonly host: string;
  readonly port: number;
  readonly username?: string;
  readonly password?: string;
  readonly stream: string;
  /** The address without credentials, for messages. */
  readonly text: string;
}

export function isRedisUrl(s: string | undefined): boolean {
  return s?.startsWith('redis://') ?? false;
}

export function parseStreamUrl(url: string, option: string): StreamAddress {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    u = new URL('invalid://');
  }
  const stream = decodeURIComponent(u.pathname.replace(/^\//, ''));
  if (u.protocol !== 'redis:' || !u.hostname || !stream) {
    throw new AeflowError(
      'USAGE',
      `${option} ${url}: expected redis://HOST:PORT/STREAM`,
      `e.g. ${option} redis://127.0.0.1:6379/${option === '--out' ? 'scores' : 'rows'}`,
    );
  }
  const port = u.port ? Number(u.port) : 6379;
  return {
    host: u.hostname.replace(/^\[|\]$/g, ''),
    port,
    ...(u.username ? { username: decodeURIComponent(u.username) } : {}),
    ...(u.password ? { password: decodeURIComponent(u.password) } : {}),
    stream,
    text: `redis://${u.host}/${stream}`,
  };
}

/** Whether two addresses are on the same server (one connection can serve both). */
export function sameServer(a: StreamAddress, b: StreamAddress): boolean {
  return a.host === b.host && a.port === b.port && a.username === b.username && a.password === b.password;
}
