import { createServer, type Server } from 'node:http';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { aeflow } from '../cli/cli.js';
import { fixture, tempDir } from '../helpers.js';

/** Serves a folder over HTTP on localhost, as a browser would fetch a model. */
function serve(dir: string): Promise<{ server: Server; url: string }> {
  const server = createServer((req, res) => {
    try {
      const body = readFileSync(path.join(dir, decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname)));
      res.writeHead(200, { 'content-type': req.url?.endsWith('.json') ? 'application/json' : 'application/octet-stream' });
      res.end(body);
    } catch {
      res.writeHead(404).end();
    }
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve({ server, url: `http://127.0.0.1:${(server.address() as { port: number }).port}` })),
  );
}

const csvNumbers = (file: string) =>
  readFileSync(file, 'utf8')
    .trim()
    .split('\n')
    .map((l) => l.split(',').map(Number));

describe('saved models and aeflow encode', () => {
  const tmp = tempDir();
  let http: { server: Server; url: string };
  beforeAll(async () => {
    const run = aeflow(['run', fixture('tiny.yaml'), '--out', path.join(tmp.dir, 'run'), '--set', 'train.epochs=3']);
    expect(run.code, run.stderr).toBe(0);
    http = await serve(path.join(tmp.dir, 'run', 'model'));
    await tf.setBackend('cpu');
  });
  afterAll(() => {
    http?.server.close();
    tmp.cleanup();
  });

  it('plain tfjs loads encoder, decoder and autoencoder over HTTP and they agree', async () => {
    const encoder = await tf.loadLayersModel(`${http.url}/encoder/model.json`);
    const decoder = await tf.loadLayersModel(`${http.url}/decoder/model.json`);
    const autoencoder = await tf.loadLayersModel(`${http.url}/autoencoder/model.json`);
    expect(encoder.inputs[0].shape).toEqual([null, 16]);
    expect(encoder.outputs[0].shape).toEqual([null, 4]);
    const x = tf.randomUniform([5, 16], 0, 1, 'float32', 1);
    const viaParts = decoder.predict(encoder.predict(x) as tf.Tensor) as tf.Tensor;
    const whole = autoencoder.predict(x) as tf.Tensor;
    const diff = tf.max(tf.abs(tf.sub(viaParts, whole))).dataSync()[0];
    expect(diff).toBeLessThan(1e-6);
    tf.dispose([x, viaParts, whole, encoder, decoder, autoencoder] as never);
  });

  it('encode writes label,z1..z4 in input order (batches spread over 2 workers), equal to the saved encoder in plain tfjs within 1e-6', async () => {
    const out = path.join(tmp.dir, 'features.csv');
    const r = aeflow([
      'encode',
      '--model',
      path.join(tmp.dir, 'run', 'model'),
      '--input',
      fixture('tiny_test.csv'),
      '--out',
      out,
      '--batch',
      '3',
      '--workers',
      '2',
    ]);
    expect(r.code, r.stderr).toBe(0);
    const [header, ...rows] = readFileSync(out, 'utf8').trim().split('\n');
    expect(header).toBe('label,z1,z2,z3,z4');
    const features = rows.map((l) => l.split(',').map(Number));
    const input = csvNumbers(fixture('tiny_test.csv')).slice(1);
    expect(features).toHaveLength(input.length);
    expect(features.map((f) => f[0])).toEqual(input.map((row) => row[0]));

    const encoder = await tf.loadLayersModel(`${http.url}/encoder/model.json`);
    const x = tf.tensor2d(input.map((row) => row.slice(1).map((v) => v / 255)));
    const expected = (encoder.predict(x) as tf.Tensor).arraySync() as number[][];
    let maxDiff = 0;
    for (const [i, z] of expected.entries()) for (const [j, v] of z.entries()) maxDiff = Math.max(maxDiff, Math.abs(v - features[i][j + 1]));
    expect(maxDiff).toBeLessThan(1e-6);
    // the codes differ between rows (the encoder is not constant)
    expect(new Set(features.map((f) => f[1].toFixed(4))).size).toBeGreaterThan(1);
  });

  it('encode of unlabelled data writes only codes; a wrong width and a missing model are clear errors', () => {
    const unlabelled = path.join(tmp.dir, 'unlabelled.csv');
    const lines = readFileSync(fixture('tiny_test.csv'), 'utf8').trim().split('\n');
    writeFileSync(unlabelled, lines.map((l) => l.split(',').slice(1).join(',')).join('\n') + '\n');
    const out = path.join(tmp.dir, 'codes.csv');
    const ok = aeflow(['encode', '--model', path.join(tmp.dir, 'run', 'model'), '--input', unlabelled, '--out', out]);
    expect(ok.code, ok.stderr).toBe(0);
    const written = readFileSync(out, 'utf8').trim().split('\n');
    expect(written[0]).toBe('z1,z2,z3,z4');
    expect(written).toHaveLength(lines.length);

    const wide = aeflow([
      'encode',
      '--model',
      path.join(tmp.dir, 'run', 'model'),
      '--input',
      fixture('tiny_test.csv'),
      '--out',
      out,
      '--force',
      '--label-column',
      'none',
    ]);
    expect(wide.code).toBe(1);
    expect(wide.stderr).toContain('error [MODEL_INPUT_MISMATCH]');
    expect(wide.stderr).toContain('has 17 feature columns, the encoder takes 16');
    const missing = aeflow(['encode', '--model', path.join(tmp.dir, 'nope'), '--input', fixture('tiny_test.csv'), '--out', out]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('error [MODEL_NOT_FOUND]');
    expect(missing.stderr).toContain('no such file or folder');
  });
});
