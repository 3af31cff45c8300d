import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readCheckpoint } from '../../src/sinks/checkpoint.js';
import { aeflow } from '../cli/cli.js';
import { fixture, tempDir } from '../helpers.js';
import { CliProcess } from '../serve/process.js';
import { freePort, hasRedis, RedisServer } from '../serve/redisServer.js';

/**
 * Training from a Redis stream (data.train: redis://…/STREAM), against a real redis-server and real training runs
 * through the CLI: a stream holding the training CSV's rows once per epoch must train exactly as the CSV does.
 */

const EPOCHS = 4;
const tmp = tempDir();
/** tiny_train.csv's 96 records (label, then 16 pixels), as stream entries hold them. */
const records = readFileSync(fixture('tiny_train.csv'), 'utf8').trim().split('\n').slice(1);
const R = records.length;
const common = ['--set', `train.epochs=${EPOCHS}`, '--set', 'train.log_every=1', '--set', 'snapshots.every=0'];
const quick = ['--set', 'outputs.report=false'];
const runArgs = (out: string, train: string, extra: string[] = []) => [
  'run',
  fixture('tiny.yaml'),
  '--out',
  out,
  '--set',
  `data.train=${train}`,
  ...common,
  ...extra,
];
const streamArgs = (out: string, url: string, extra: string[] = []) => runArgs(out, url, ['--set', `train.rows_per_epoch=${R}`, ...extra]);

const json = (file: string) => JSON.parse(readFileSync(file, 'utf8'));
const metrics = (dir: string) =>
  readFileSync(path.join(dir, 'metrics.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { epoch: number; train_loss: number; test_loss: number; rows: number });
const losses = (dir: string) => metrics(dir).map((m) => [m.epoch, m.train_loss, m.test_loss, m.rows]);

/** Appends entries with these rows (null: an entry without a `row` field); returns their IDs in order. */
async function produce(redis: Redis, stream: string, rows: ReadonlyArray<string | null>): Promise<string[]> {
  const p = redis.pipeline();
  for (const row of rows) {
    if (row === null) p.xadd(stream, '*', 'note', 'no row here');
    else p.xadd(stream, '*', 'row', row);
  }
  return ((await p.exec()) ?? []).map(([e, id]) => {
    if (e) throw e;
    return id as string;
  });
}

const times = (n: number) => Array.from({ length: n }, () => records).flat();

describe('training from a Redis stream', () => {
  let redis: RedisServer;
  let client: Redis;
  const reference = path.join(tmp.dir, 'file');

  beforeAll(async () => {
    if (!hasRedis) throw new Error('redis-server is not installed: apt-get install redis-server (.ci/run does)');
    redis = await RedisServer.start(tmp.dir);
    client = redis.client();
    const r = aeflow(runArgs(reference, fixture('tiny_train.csv')));
    expect(r.code, r.stderr).toBe(0);
  });
  afterAll(async () => {
    client?.disconnect();
    await redis?.stop('SIGKILL');
    tmp.cleanup();
  });

  it('an epoch is the next rows_per_epoch entries: the CSV rows once per epoch train as the CSV does, and entries after the last epoch stay unread', async () => {
    // Entries past the last epoch that would fail the run if it read them.
    const ids = await produce(client, 'whole', [...times(EPOCHS), null, 'not,a,record']);
    const out = path.join(tmp.dir, 'whole');
    const r = aeflow(streamArgs(out, `${redis.url}/whole`));
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`redis(${redis.url}/whole, ${R} entries an epoch) -> normalize(/255) -> shuffle(window 32)`);
    expect(losses(out)).toEqual(losses(reference));
    expect(json(path.join(out, 'summary.json')).test_loss).toBe(json(path.join(reference, 'summary.json')).test_loss);
    expect(readCheckpoint(out).stream).toEqual({ lastId: ids[EPOCHS * R - 1], lastEpochFrom: ids[(EPOCHS - 1) * R - 1], entries: EPOCHS * R });
    // The evaluation read the last epoch's entries as the training split: the CSV's rows, as the file run read them.
    const evaluation = json(path.join(out, 'evaluation.json'));
    expect(evaluation.train_rows).toBe(R);
    expect(evaluation.anomaly.threshold).toBe(json(path.join(reference, 'evaluation.json')).anomaly.threshold);
  });

  it('stopped by SIGINT while waiting for entries and resumed once they came, the run goes on from the next entry and ends as the CSV run', async () => {
    // Two and a half epochs: the third waits after its first batch (the shuffle window holds 32 of 48 rows).
    const first = await produce(client, 'part', [...times(2), ...records.slice(0, R / 2)]);
    const out = path.join(tmp.dir, 'part');
    const run = new CliProcess(streamArgs(out, `${redis.url}/part`, quick));
    await run.waitFor(/^epoch 2\/4 /m);
    run.kill('SIGINT');
    expect((await run.exited).code, run.err).toBe(130);
    expect(run.err).toMatch(/error \[INTERRUPTED\]: stopped (after epoch 2|at epoch 3, after 1 batch of it)/);
    const stopped = readCheckpoint(out);
    // Whole epochs only are consumed; a mid-epoch stop records the batches the resumed run skips.
    expect(stopped.stream).toEqual({ lastId: first[2 * R - 1], lastEpochFrom: first[R - 1], entries: 2 * R });
    expect([0, 1]).toContain(stopped.batches);
    const rest = await produce(client, 'part', [...records.slice(R / 2), ...records, null]);
    const resumed = aeflow(['run', '--resume', out]);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(losses(out)).toEqual(losses(reference));
    expect(readCheckpoint(out).stream).toEqual({ lastId: rest[rest.length - 2], lastEpochFrom: rest[R / 2 - 1], entries: EPOCHS * R });
  });

  it('Redis restarted (with its append-only file) while the run waits: the run reconnects and reads on from its entry, losing none', async () => {
    const persistent = await RedisServer.start(tmp.dir, true);
    const producer = persistent.client();
    try {
      await produce(producer, 'restart', times(2));
      const out = path.join(tmp.dir, 'restart');
      const run = new CliProcess(streamArgs(out, `${persistent.url}/restart`, quick));
      await run.waitFor(/^epoch 2\/4 /m);
      await persistent.restart();
      await run.waitFor(/redis: reconnected to 127\.0\.0\.1/);
      const ids = await produce(producer, 'restart', times(2));
      expect(await run.exited, run.err).toEqual({ code: 0, signal: null });
      expect(run.out).toContain('redis: lost the connection');
      expect(losses(out)).toEqual(losses(reference));
      expect(readCheckpoint(out).stream?.lastId).toBe(ids[ids.length - 1]);
    } finally {
      producer.disconnect();
      await persistent.stop('SIGKILL');
    }
  });

  it("a tabular pipeline's preprocessing is fitted on the stream's first rows_per_epoch entries only", async () => {
    // Later epochs hold other values: statistics over more than the first epoch would differ from the CSV's.
    const inverted = records.map((r) => r.replace(/,(\d+)/g, (_, v) => `,${255 - Number(v)}`));
    await produce(client, 'tabular', [...records, ...inverted]);
    const standard = [...quick, '--set', 'data.normalize=standard', '--set', 'train.epochs=2'];
    const file = path.join(tmp.dir, 'tabular-file');
    expect(aeflow(runArgs(file, fixture('tiny_train.csv'), standard)).code).toBe(0);
    const out = path.join(tmp.dir, 'tabular');
    const r = aeflow(streamArgs(out, `${redis.url}/tabular`, standard));
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`fitting the preprocessing on the first ${R} entries of ${redis.url}/tabular`);
    expect(json(path.join(out, 'preprocessing.json'))).toEqual(json(path.join(file, 'preprocessing.json')));
    // The first epoch trained on the CSV's rows through that preprocessing, the second on the other values.
    const [one, two] = metrics(out);
    const [fileOne, fileTwo] = metrics(file);
    expect(one.train_loss).toBe(fileOne.train_loss);
    expect(two.train_loss).not.toBe(fileTwo.train_loss);
  });

  it('stopped while the statistics pass waits for the first rows_per_epoch entries: INTERRUPTED, and no run folder with statistics of fewer', async () => {
    await produce(client, 'few', records.slice(0, 10));
    const out = path.join(tmp.dir, 'few');
    const run = new CliProcess(streamArgs(out, `${redis.url}/few`, ['--set', 'data.normalize=standard']));
    await run.waitFor(/fitting the preprocessing on the first 96 entries/);
    run.kill('SIGINT');
    expect((await run.exited).code, run.err).toBe(130);
    expect(run.err).toContain(`error [INTERRUPTED]: stopped while waiting for the first ${R} entries of ${redis.url}/few`);
    expect(existsSync(out)).toBe(false);
  });

  it('a bad record is an error naming its entry, or under on_bad_row: skip is counted as skipped', async () => {
    const bad = records[3].replace(/,\d+$/, ',x');
    const ids = await produce(client, 'bad', [...records.slice(0, 20), bad, null, ...records.slice(20, R - 2)]);
    const url = `${redis.url}/bad`;
    const failed = aeflow(streamArgs(path.join(tmp.dir, 'bad-error'), url, [...quick, '--set', 'train.epochs=1']));
    expect(failed.code).toBe(1);
    expect(failed.stderr).toContain(`error [CSV_VALUE_INVALID]: ${url} entry ${ids[20]}: column 17 ("4x4") holds "x"`);
    const out = path.join(tmp.dir, 'bad-skip');
    const skipped = aeflow(streamArgs(out, url, [...quick, '--set', 'train.epochs=1', '--set', 'data.on_bad_row=skip']));
    expect(skipped.code, skipped.stderr).toBe(0);
    const s = json(path.join(out, 'summary.json')).skipped_rows.train;
    expect(s.count).toBe(2);
    expect(s.lines).toEqual([21, 22]);
    expect(s.first).toContain(`${url} entry ${ids[20]}: column 17`);
    expect(metrics(out)[0].rows).toBe(R - 2);
  });

  it('without train.rows_per_epoch, with it and a file, or with Redis out of reach: coded errors', async () => {
    const missing = aeflow(runArgs(path.join(tmp.dir, 'x'), `${redis.url}/whole`));
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('error [CONFIG_INVALID]');
    expect(missing.stderr).toContain('train.rows_per_epoch: required when data.train is a Redis stream');
    const withFile = aeflow(runArgs(path.join(tmp.dir, 'x'), fixture('tiny_train.csv'), ['--set', 'train.rows_per_epoch=10']));
    expect(withFile.code).toBe(1);
    expect(withFile.stderr).toContain('train.rows_per_epoch: only with a Redis stream as data.train');
    const away = aeflow(streamArgs(path.join(tmp.dir, 'x'), `redis://127.0.0.1:${await freePort()}/rows`));
    expect(away.code).toBe(1);
    expect(away.stderr).toContain('error [REDIS_UNAVAILABLE]: cannot reach Redis at 127.0.0.1');
  });
});
