import { afterEach, describe, expect, it, vi } from 'vitest';
import { type BatchKind, type BatchReport, MicroBatcher } from '../../src/serve/microBatcher.js';

const COLS = 2;

/** A kind whose batches end when the test says: each answer is the batch's values doubled. */
function controlledKind() {
  const batches: Array<{ rows: number; values: number[]; finish: () => void; fail: (e: Error) => void }> = [];
  const kind: BatchKind<Float32Array> = {
    name: 'double',
    run: (x, rows) =>
      new Promise((resolve, reject) => {
        const values = Array.from(x.subarray(0, rows * COLS));
        batches.push({ rows, values, finish: () => resolve(Float32Array.from(values, (v) => 2 * v)), fail: reject });
      }),
    slice: (r, start, end) => r.subarray(start * COLS, end * COLS),
  };
  return { kind, batches };
}

const memory = { allocate: (n: number) => new Float32Array(n), release: () => undefined };
const rowsOf = (...values: number[]) => Float32Array.from(values);

afterEach(() => vi.useRealTimers());

describe('MicroBatcher', () => {
  it("joins concurrent requests' rows into one batch once maxRows wait, and answers each request its own rows", async () => {
    const { kind, batches } = controlledKind();
    const batcher = new MicroBatcher(COLS, 1, { maxRows: 4, maxDelayMs: 1e9, maxQueuedRows: 100 }, memory);
    const a = batcher.submit(kind, rowsOf(1, 2), 1);
    const b = batcher.submit(kind, rowsOf(3, 4, 5, 6), 2);
    expect(batches).toHaveLength(0); // 3 rows wait for a fourth
    const c = batcher.submit(kind, rowsOf(7, 8), 1);
    expect(batches.map((x) => x.rows)).toEqual([4]);
    expect(batches[0].values).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    batches[0].finish();
    expect(Array.from(await a)).toEqual([2, 4]);
    expect(Array.from(await b)).toEqual([6, 8, 10, 12]);
    expect(Array.from(await c)).toEqual([14, 16]);
    expect(batcher.done).toEqual({ batches: 1, rows: 4 });
  });

  it('runs a lone request once it has waited maxDelayMs, not before', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] });
    const { kind, batches } = controlledKind();
    const batcher = new MicroBatcher(COLS, 1, { maxRows: 64, maxDelayMs: 5, maxQueuedRows: 100 }, memory);
    const a = batcher.submit(kind, rowsOf(1, 2), 1);
    vi.advanceTimersByTime(4);
    expect(batches).toHaveLength(0);
    vi.advanceTimersByTime(1);
    expect(batches.map((x) => x.rows)).toEqual([1]);
    batches[0].finish();
    expect(Array.from(await a)).toEqual([2, 4]);
  });

  it('keeps at most `slots` batches in the workers; rows that wait meanwhile make the next batch', async () => {
    const { kind, batches } = controlledKind();
    const batcher = new MicroBatcher(COLS, 1, { maxRows: 8, maxDelayMs: 0, maxQueuedRows: 100 }, memory);
    const first = batcher.submit(kind, rowsOf(1, 1), 1);
    const waiting = [2, 3, 4].map((v) => batcher.submit(kind, rowsOf(v, v), 1));
    expect(batches.map((x) => x.rows)).toEqual([1]);
    expect(batcher.rowsWaiting).toBe(3);
    batches[0].finish();
    await first;
    expect(batches.map((x) => x.rows)).toEqual([1, 3]);
    batches[1].finish();
    expect((await Promise.all(waiting)).map((r) => r[0])).toEqual([4, 6, 8]);
  });

  it('a request with more rows than maxRows is a batch of its own', () => {
    const { kind, batches } = controlledKind();
    const batcher = new MicroBatcher(COLS, 2, { maxRows: 2, maxDelayMs: 1e9, maxQueuedRows: 100 }, memory);
    void batcher.submit(kind, new Float32Array(5 * COLS), 5);
    void batcher.submit(kind, new Float32Array(2 * COLS), 2);
    expect(batches.map((x) => x.rows)).toEqual([5, 2]);
  });

  it('a failed batch rejects its own requests only, and is reported', async () => {
    const { kind, batches } = controlledKind();
    const reports: BatchReport[] = [];
    const batcher = new MicroBatcher(COLS, 2, { maxRows: 2, maxDelayMs: 1e9, maxQueuedRows: 100 }, memory, (r) => reports.push(r));
    const failed = [batcher.submit(kind, rowsOf(1, 1), 1), batcher.submit(kind, rowsOf(2, 2), 1)];
    const fine = batcher.submit(kind, rowsOf(3, 3, 4, 4), 2);
    batches[0].fail(new Error('worker died'));
    batches[1].finish();
    for (const f of failed) await expect(f).rejects.toThrow('worker died');
    expect(Array.from(await fine)).toEqual([6, 6, 8, 8]);
    expect(reports.map((r) => [r.requests, r.rows, r.error ? 'failed' : 'ok'])).toEqual([
      [2, 2, 'failed'],
      [1, 2, 'ok'],
    ]);
  });

  it('refuses a request (SERVER_BUSY) once maxQueuedRows wait, rather than queueing without bound', async () => {
    const { kind, batches } = controlledKind();
    const batcher = new MicroBatcher(COLS, 1, { maxRows: 100, maxDelayMs: 1e9, maxQueuedRows: 3 }, memory);
    void batcher.submit(kind, new Float32Array(2 * COLS), 2);
    await expect(batcher.submit(kind, new Float32Array(2 * COLS), 2)).rejects.toMatchObject({ code: 'SERVER_BUSY' });
    expect(batches).toHaveLength(0);
    expect(batcher.rowsWaiting).toBe(2);
  });
});
