import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { aeflow } from '../cli/cli.js';
import { fixture, tempDir } from '../helpers.js';
import { CliProcess } from './process.js';
import { hasRedis, RedisServer } from './redisServer.js';

const tmp = tempDir();
const run = path.join(tmp.dir, 'run');
const testCsv = fixture('tiny_test.csv');
/** tiny_test.csv's records (label, then 16 pixels), as a stream entry holds them. */
const records = readFileSync(testCsv, 'utf8').trim().split('\n').slice(1);

beforeAll(() => {
  if (!hasRedis) throw new Error('redis-server is not installed: apt-get install redis-server (.ci/run does)');
  const r = aeflow(['run', fixture('tiny.yaml'), '--out', run, '--set', 'train.epochs=2']);
  expect(r.code, r.stderr).toBe(0);
});
afterAll(() => tmp.cleanup());

/** Appends entries with these rows (null: an entry without a `row` field); returns their IDs in order. */
async function produce(redis: Redis, stream: string, rows: ReadonlyArray<string | null>): Promise<string[]> {
  const ids: string[] = [];
  for (let start = 0; start < rows.length; start += 5000) {
    const p = redis.pipeline();
    for (const row of rows.slice(start, start + 5000)) {
      if (row === null) p.xadd(stream, '*', 'note', 'no row here');
      else p.xadd(stream, '*', 'row', row);
    }
    for (const [e, id] of (await p.exec()) ?? []) {
      if (e) throw e;
      ids.push(id as string);
    }
  }
  return ids;
}

/** Every entry of a stream, as field maps with their IDs. */
async function readAll(redis: Redis, stream: string): Promise<Array<Record<string, string>>> {
  const all: Array<Record<string, string>> = [];
  let from = '-';
  for (;;) {
    const page = (await redis.xrange(stream, from, '+', 'COUNT', 10_000)) as Array<[string, string[]]>;
    for (const [id, f] of page) {
      const entry: Record<string, string> = { id };
      for (let i = 0; i < f.length; i += 2) entry[f[i]] = f[i + 1];
      all.push(entry);
    }
    if (page.length < 10_000) return all;
    from = `(${page[page.length - 1][0]}`;
  }
}

const consumer = (kind: 'score' | 'encode', url: string, name: string, extra: string[] = []) =>
  new CliProcess([
    kind,
    '--model',
    run,
    '--input',
    `${url}/in`,
    '--group',
    'scorers',
    '--consumer',
    name,
    '--out',
    `${url}/out`,
    '--workers',
    '1',
    '--claim-after',
    '1',
    ...extra,
  ]);

const csvRows = (file: string) => {
  const [header, ...lines] = readFileSync(file, 'utf8').trim().split('\n');
  const names = header.split(',');
  return lines.map((l) => Object.fromEntries(l.split(',').map((v, i) => [names[i], v])));
};

describe('Redis stream consumers', () => {
  let redis: RedisServer;
  let client: Redis;
  const started: CliProcess[] = [];
  const start = (p: CliProcess) => {
    started.push(p);
    return p;
  };

  afterEach(async () => {
    for (const p of started.splice(0)) {
      p.kill('SIGKILL');
      await p.exited;
    }
    client?.disconnect();
    await redis?.stop('SIGKILL');
  });

  it('score and encode answer each entry as the file commands answer its row; a bad record goes to the dead letters, and the group goes on', async () => {
    redis = await RedisServer.start(tmp.dir);
    client = redis.client();
    const rows = [...records.slice(0, 10), `${records[0]},99`, null, records[1].replace(/,\d+$/, ',x'), ...records.slice(10)];
    const ids = await produce(client, 'in', rows);
    const scorer = start(consumer('score', redis.url, 'one', ['--until-idle', '1']));
    expect(await scorer.exited, scorer.err).toEqual({ code: 0, signal: null });
    const out = await readAll(client, 'out');
    const dead = await readAll(client, 'out:dead');
    expect(dead.map((d) => [d.input_id, d.code])).toEqual([
      [ids[10], 'CSV_ROW_INVALID'],
      [ids[11], 'STREAM_ENTRY_INVALID'],
      [ids[12], 'CSV_VALUE_INVALID'],
    ]);
    const scored = new Map(out.map((o) => [o.input_id, o]));
    const good = ids.filter((_, i) => i < 10 || i > 12);
    expect(out.length).toBe(good.length);
    const file = path.join(tmp.dir, 'scores.csv');
    expect(aeflow(['score', '--model', run, '--input', testCsv, '--out', file, '--force']).code).toBe(0);
    csvRows(file).forEach((row, i) => {
      const o = scored.get(good[i]) as Record<string, string>;
      expect(Math.abs(Number(o.error) - Number(row.error)), `row ${i}`).toBeLessThan(1e-5);
      expect(o.anomaly).toBe(row.anomaly);
    });
    await client.del('out', 'out:dead');
    await client.xgroup('SETID', 'in', 'scorers', '0');
    const encoder = start(consumer('encode', redis.url, 'one', ['--until-idle', '1']));
    expect(await encoder.exited, encoder.err).toEqual({ code: 0, signal: null });
    const codes = new Map((await readAll(client, 'out')).map((o) => [o.input_id, [1, 2, 3, 4].map((k) => Number(o[`z${k}`]))]));
    const features = path.join(tmp.dir, 'features.csv');
    expect(aeflow(['encode', '--model', run, '--input', testCsv, '--out', features, '--force']).code).toBe(0);
    csvRows(features).forEach((row, i) => {
      const z = codes.get(good[i]) as number[];
      for (let k = 0; k < 4; k++) expect(Math.abs(z[k] - Number(row[`z${k + 1}`])), `row ${i}`).toBeLessThan(1e-5);
    });
  });

  it('three consumers over 50,000 entries, one killed with SIGKILL midway: every input ID is in the output, exactly once after dropping duplicates', async () => {
    redis = await RedisServer.start(tmp.dir);
    client = redis.client();
    const ids = await produce(
      client,
      'in',
      Array.from({ length: 50_000 }, (_, i) => records[i % records.length]),
    );
    // The first consumer starts alone, so the stream holds entries for it while it reports progress. At a
    // progress line it is frozen (SIGSTOP); if it had just acknowledged all it held, it goes on to its next line.
    // Killed while it holds entries, it leaves them pending, and the two started after it must claim them.
    const first = start(consumer('score', redis.url, 'a', ['--until-idle', '2']));
    const consumers = [first];
    let left: unknown[] = [];
    for (let seen = 0; left.length === 0; ) {
      await first.waitFor(/score: \d+ entries done/, seen);
      first.kill('SIGSTOP');
      seen = first.out.length;
      left = (await client.xpending('in', 'scorers', '-', '+', 100_000, 'a')) as unknown[];
      if (left.length === 0) first.kill('SIGCONT');
    }
    first.kill('SIGKILL');
    expect((await first.exited).signal).toBe('SIGKILL');
    expect(((await client.xpending('in', 'scorers', '-', '+', 100_000, 'a')) as unknown[]).length, 'the killed consumer left entries pending').toBe(
      left.length,
    );
    for (const name of ['b', 'c']) consumers.push(start(consumer('score', redis.url, name, ['--until-idle', '2'])));
    for (const c of consumers.slice(1)) expect(await c.exited, c.err).toEqual({ code: 0, signal: null });
    const out = await readAll(client, 'out');
    const answered = new Set(out.map((o) => o.input_id));
    expect(answered.size).toBe(ids.length);
    expect(ids.every((id) => answered.has(id))).toBe(true);
    expect(out.length).toBeGreaterThanOrEqual(ids.length);
    expect(((await client.xpending('in', 'scorers')) as [number])[0]).toBe(0);
    expect(await client.exists('out:dead')).toBe(0);
  });

  it('Redis restarting mid-run (with its append-only file) ends in a reconnect, and nothing is lost', async () => {
    redis = await RedisServer.start(tmp.dir, true);
    client = redis.client();
    const ids = await produce(
      client,
      'in',
      Array.from({ length: 20_000 }, (_, i) => records[i % records.length]),
    );
    // Without --until-idle it cannot have ended before the restart, whatever the timing.
    const first = start(consumer('score', redis.url, 'one'));
    await first.waitFor(/score: \d+ entries done/);
    client.disconnect();
    await redis.restart();
    client = redis.client();
    await first.waitFor(/redis: reconnected/);
    // A second consumer ends once nothing is pending in the group: the first has answered all it held by then.
    const second = start(consumer('score', redis.url, 'two', ['--until-idle', '2']));
    expect(await second.exited, second.err).toEqual({ code: 0, signal: null });
    first.kill('SIGTERM');
    expect(await first.exited, first.err).toEqual({ code: 0, signal: null });
    const answered = new Set((await readAll(client, 'out')).map((o) => o.input_id));
    expect(ids.filter((id) => !answered.has(id))).toEqual([]);
    expect(((await client.xpending('in', 'scorers')) as [number])[0]).toBe(0);
  });

  it('Redis restarting without persistence (the group lost) ends in a clear error, not in silence', async () => {
    redis = await RedisServer.start(tmp.dir);
    client = redis.client();
    await produce(
      client,
      'in',
      Array.from({ length: 20_000 }, (_, i) => records[i % records.length]),
    );
    const scorer = start(consumer('score', redis.url, 'one'));
    await scorer.waitFor(/score: \d+ entries done/);
    client.disconnect();
    await redis.restart();
    expect((await scorer.exited).code).toBe(1);
    expect(scorer.err).toMatch(/error \[REDIS_GROUP_MISSING\]: .*the consumer group scorers is gone/);
  });

  it('without --until-idle a consumer runs until SIGTERM, then answers and acknowledges what it holds, and exits 0', async () => {
    redis = await RedisServer.start(tmp.dir);
    client = redis.client();
    await produce(
      client,
      'in',
      Array.from({ length: 20_000 }, (_, i) => records[i % records.length]),
    );
    const scorer = start(consumer('score', redis.url, 'one'));
    await scorer.waitFor(/score: \d+ entries done/);
    scorer.kill('SIGTERM');
    expect(await scorer.exited, scorer.err).toEqual({ code: 0, signal: null });
    expect(scorer.out).toMatch(/stopping: answering and acknowledging/);
    expect(((await client.xpending('in', 'scorers')) as [number])[0]).toBe(0);
    const done = Number(/score: (\d+) entries in/.exec(scorer.out)?.[1]);
    expect((await readAll(client, 'out')).length).toBe(done);
  });
});
