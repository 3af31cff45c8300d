import { cpSync, readFileSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { aeflow } from '../cli/cli.js';
import { fixture, tempDir } from '../helpers.js';
import { type CliProcess, startServer } from './process.js';

const tmp = tempDir();
const run = path.join(tmp.dir, 'run');
const testCsv = fixture('tiny_test.csv');
/** tiny_test.csv's rows: label, then the 16 pixels. */
const table = readFileSync(testCsv, 'utf8')
  .trim()
  .split('\n')
  .slice(1)
  .map((l) => l.split(',').map(Number));
const pixels = table.map((r) => r.slice(1));

const csvOf = (file: string) => {
  const [header, ...lines] = readFileSync(file, 'utf8').trim().split('\n');
  const names = header.split(',');
  return lines.map((l) => Object.fromEntries(l.split(',').map((v, i) => [names[i], v])));
};

async function post(url: string, body: unknown, type = 'application/json'): Promise<{ status: number; json: Record<string, unknown> }> {
  const r = await fetch(url, { method: 'POST', headers: { 'content-type': type }, body: typeof body === 'string' ? body : JSON.stringify(body) });
  return { status: r.status, json: (await r.json()) as Record<string, unknown> };
}

const errorOf = (r: { json: Record<string, unknown> }) => r.json.error as { code: string; message: string };

function expectClose(actual: number[][], expected: number[][], tolerance: number): void {
  expect(actual.length).toBe(expected.length);
  for (const [i, row] of actual.entries()) {
    expect(row.length).toBe(expected[i].length);
    for (const [j, v] of row.entries()) expect(Math.abs(v - expected[i][j]), `row ${i}, value ${j}`).toBeLessThan(tolerance);
  }
}

beforeAll(() => {
  const r = aeflow(['run', fixture('tiny.yaml'), '--out', run, '--set', 'train.epochs=2']);
  expect(r.code, r.stderr).toBe(0);
});
afterAll(() => tmp.cleanup());

describe('aeflow serve: answers', () => {
  let server: CliProcess;
  let url: string;
  beforeAll(async () => {
    ({ server, url } = await startServer(['--model', run, '--workers', '2', '--body-limit', '0.05']));
  });
  afterAll(async () => {
    server.kill('SIGTERM');
    await server.exited;
  });

  it('POST /encode answers what aeflow encode writes, within 1e-5, for JSON rows and for the CSV itself', async () => {
    const out = path.join(tmp.dir, 'features.csv');
    const r = aeflow(['encode', '--model', run, '--input', testCsv, '--out', out]);
    expect(r.code, r.stderr).toBe(0);
    const expected = csvOf(out).map((row) => [1, 2, 3, 4].map((k) => Number(row[`z${k}`])));
    const json = await post(`${url}/encode`, { rows: pixels });
    expect(json.status).toBe(200);
    expectClose(json.json.codes as number[][], expected, 1e-5);
    const csv = await post(`${url}/encode`, readFileSync(testCsv, 'utf8'), 'text/csv');
    expect(csv.status).toBe(200);
    expectClose(csv.json.codes as number[][], expected, 1e-5);
  });

  it('POST /score answers the errors and anomaly flags aeflow score writes; /reconstruct the same errors; CSV without a header reads the same', async () => {
    const out = path.join(tmp.dir, 'scores.csv');
    const r = aeflow(['score', '--model', run, '--input', testCsv, '--out', out]);
    expect(r.code, r.stderr).toBe(0);
    const expected = csvOf(out);
    const score = await post(`${url}/score`, { rows: pixels });
    expect(score.status).toBe(200);
    const errors = score.json.errors as number[];
    expectClose([errors], [expected.map((row) => Number(row.error))], 1e-5);
    expect(score.json.anomaly).toEqual(expected.map((row) => row.anomaly === '1'));
    expect((score.json.columns as Array<Array<{ column: string }>>)[0].map((c) => c.column)).toEqual([
      expected[0].column_1,
      expected[0].column_2,
      expected[0].column_3,
    ]);
    const recon = await post(`${url}/reconstruct`, { rows: pixels });
    expect(recon.status).toBe(200);
    expectClose([recon.json.errors as number[]], [errors], 1e-6);
    expect((recon.json.reconstructions as number[][]).map((row) => row.length)).toEqual(pixels.map(() => 16));
    const lines = readFileSync(testCsv, 'utf8').trim().split('\n').slice(1).join('\n');
    const headerless = await post(`${url}/score?header=false`, lines, 'text/csv');
    expect(headerless.status, JSON.stringify(headerless.json)).toBe(200);
    expectClose([headerless.json.errors as number[]], [errors], 1e-6);
  });

  it('GET /model describes the model and its threshold; GET /healthz says ok', async () => {
    const model = (await (await fetch(`${url}/model`)).json()) as Record<string, unknown>;
    expect(model).toMatchObject({ inputs: 16, code_size: 4, decoder: true, workers: 2 });
    expect((model.columns as string[]).slice(0, 2)).toEqual(['1x1', '1x2']);
    const evaluation = JSON.parse(readFileSync(path.join(run, 'evaluation.json'), 'utf8'));
    expect((model.threshold as { value: number }).value).toBe(evaluation.anomaly.threshold);
    const health = (await (await fetch(`${url}/healthz`)).json()) as Record<string, unknown>;
    expect(health.status).toBe('ok');
  });

  it('answers each bad input with its coded 4xx error, and goes on answering', async () => {
    const good = pixels[0];
    const cases: Array<[string, unknown, string, number, string]> = [
      ['wrong width', { rows: [good.slice(1)] }, 'application/json', 400, 'MODEL_INPUT_MISMATCH'],
      ['a value that is not a number', { rows: [[...good.slice(0, 15), 'x']] }, 'application/json', 400, 'CSV_VALUE_INVALID'],
      ['a value out of range', { rows: [[...good.slice(0, 15), 256]] }, 'application/json', 400, 'CSV_VALUE_OUT_OF_RANGE'],
      ['no rows', { rows: [] }, 'application/json', 400, 'REQUEST_INVALID'],
      ['not {"rows"}', { data: [good] }, 'application/json', 400, 'REQUEST_INVALID'],
      ['bad JSON', '{"rows": [[1, 2', 'application/json', 400, 'REQUEST_INVALID'],
      ['a CSV row short of columns', `${readFileSync(testCsv, 'utf8').split('\n')[0]}\n0,1,2\n`, 'text/csv', 400, 'CSV_ROW_INVALID'],
      ['a body over the limit', { rows: Array.from({ length: 3000 }, () => good) }, 'application/json', 413, 'REQUEST_TOO_LARGE'],
      ['an unknown content type', '<rows/>', 'application/xml', 415, 'REQUEST_INVALID'],
    ];
    for (const [what, body, type, status, code] of cases) {
      const r = await post(`${url}/encode`, body, type);
      expect(r.status, what).toBe(status);
      expect(errorOf(r).code, what).toBe(code);
      expect(errorOf(r).message.length, what).toBeGreaterThan(0);
    }
    const unknown = await fetch(`${url}/nowhere`);
    expect(unknown.status).toBe(404);
    const after = await post(`${url}/encode`, { rows: [good] });
    expect(after.status).toBe(200);
    expect(server.child.exitCode).toBeNull();
  });
});

describe('aeflow serve: a worker that dies', () => {
  let server: CliProcess;
  let url: string;
  beforeAll(async () => {
    // The worker thread ends itself on its second encode (src/workers/faults.ts); its replacement counts afresh.
    ({ server, url } = await startServer(['--model', run, '--workers', '1'], { AEFLOW_FAULT: 'exit:encode:2' }));
  });
  afterAll(async () => {
    server.kill('SIGTERM');
    await server.exited;
  });

  it("answers its batch's requests 500, is replaced, and the next request is answered", async () => {
    const first = await post(`${url}/encode`, { rows: pixels.slice(0, 3) });
    expect(first.status).toBe(200);
    const failed = await post(`${url}/encode`, { rows: pixels.slice(0, 3) });
    expect(failed.status).toBe(500);
    expect(errorOf(failed).code).toBe('WORKER_FAILED');
    await server.waitFor(/encode batch of 3 row\(s\) from 1 request\(s\) failed: .*a new worker takes its place/);
    const next = await post(`${url}/encode`, { rows: pixels.slice(0, 3) });
    expect(next.status).toBe(200);
    expectClose(next.json.codes as number[][], first.json.codes as number[][], 1e-6);
  });
});

describe('aeflow serve: no anomaly threshold', () => {
  it('a model without anomaly.json or evaluation.json scores with anomaly null and says why', async () => {
    const bare = path.join(tmp.dir, 'bare');
    cpSync(path.join(run, 'model'), path.join(bare, 'model'), { recursive: true });
    cpSync(path.join(run, 'pipeline.yaml'), path.join(bare, 'pipeline.yaml'));
    rmSync(path.join(bare, 'model', 'anomaly.json'), { force: true });
    const { server, url } = await startServer(['--model', bare, '--workers', '1']);
    try {
      const r = await post(`${url}/score`, { rows: pixels.slice(0, 2) });
      expect(r.status).toBe(200);
      expect(r.json.anomaly).toBeNull();
      expect(r.json.note).toMatch(/no anomaly threshold/);
      expect((r.json.errors as number[]).length).toBe(2);
    } finally {
      server.kill('SIGTERM');
      await server.exited;
    }
  });
});

describe('aeflow serve: load', () => {
  it("joins concurrent requests' rows into batches, and answers every one of a bounded load as a lone request is answered", async () => {
    // A batch starts only when 8 rows wait (the delay is far beyond the test), so 256 one-row requests make
    // exactly 32 batches whatever the timing.
    const { server, url } = await startServer(['--model', run, '--workers', '2', '--max-batch', '8', '--max-delay', '600000']);
    try {
      const reference = await Promise.all(Array.from({ length: 8 }, (_, i) => post(`${url}/encode`, { rows: [pixels[i]] })));
      const lone = reference.map((r) => (r.json.codes as number[][])[0]);
      const answers: Array<{ status: number; codes: number[][]; i: number }> = [];
      let next = 0;
      const client = async () => {
        while (next < 256) {
          const i = next++;
          const r = await post(`${url}/encode`, { rows: [pixels[i % 8]] });
          answers.push({ status: r.status, codes: r.json.codes as number[][], i });
        }
      };
      await Promise.all(Array.from({ length: 32 }, client));
      expect(answers.filter((a) => a.status !== 200)).toEqual([]);
      for (const a of answers) expectClose(a.codes, [lone[a.i % 8]], 1e-6);
      const health = (await (await fetch(`${url}/healthz`)).json()) as { batches: number; rows: number };
      expect(health).toMatchObject({ batches: 1 + 32, rows: 8 + 256 });
    } finally {
      server.kill('SIGTERM');
      await server.exited;
    }
  });
});

describe('aeflow serve: SIGTERM', () => {
  it('answers the request in flight, refuses new ones, and exits 0', async () => {
    const { server, url } = await startServer(['--model', run, '--workers', '1']);
    const { port } = new URL(url);
    const body = Buffer.from(JSON.stringify({ rows: pixels.slice(0, 4) }));
    let held: ReturnType<typeof request> | null = null;
    // A request whose body is half sent is in flight until the rest comes.
    const answer = new Promise<{ status: number; text: string }>((resolve, reject) => {
      const req = request(
        { host: '127.0.0.1', port, method: 'POST', path: '/encode', headers: { 'content-type': 'application/json', 'content-length': body.length } },
        (res) => {
          let text = '';
          res.setEncoding('utf8').on('data', (s: string) => (text += s));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
        },
      );
      req.on('error', reject);
      req.write(body.subarray(0, 10));
      held = req;
    });
    // The server counts it once it has read its headers (a health check does not count itself).
    for (let seen = 0; seen < 1; ) seen = ((await (await fetch(`${url}/healthz`)).json()) as { in_flight: number }).in_flight;
    server.kill('SIGTERM');
    await server.waitFor(/stopping: answering the 1 request\(s\) in flight/);
    const late = await fetch(`${url}/healthz`).then(
      (r) => r.status,
      () => 'refused',
    );
    expect([503, 'refused']).toContain(late);
    (held as ReturnType<typeof request> | null)?.end(body.subarray(10));
    const r = await answer;
    expect(r.status).toBe(200);
    expect((JSON.parse(r.text) as { codes: number[][] }).codes).toHaveLength(4);
    expect(await server.exited).toEqual({ code: 0, signal: null });
    expect(server.out).toContain('every request answered; exiting');
  });
});
