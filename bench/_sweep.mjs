import { readFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '../dist/backend.js';
import { SoftmaxRegression } from '../dist/models/softmaxRegression.js';
import { Random } from '../dist/random.js';
await selectBackend('wasm');
const f32 = (p) => new Float32Array(readFileSync(p).buffer.slice(0));
const i32 = (p) => new Int32Array(readFileSync(p).buffer.slice(0));
const ytr = i32('/tmp/exp/ytrain.i32'),
  yte = i32('/tmp/exp/ytest.i32');
const [set, lr, epochs, avgFrac, l2mul, bs] = [
  process.argv[2],
  Number(process.argv[3]),
  Number(process.argv[4]),
  Number(process.argv[5] ?? 0.5),
  Number(process.argv[6] ?? 1),
  Number(process.argv[7] ?? 256),
];
const xtr = f32(`/tmp/exp/${set}_train.f32`),
  xte = f32(`/tmp/exp/${set}_test.f32`);
const n = ytr.length,
  d = xtr.length / n;
const mean = new Float32Array(d),
  sq = new Float64Array(d);
for (let r = 0; r < n; r++)
  for (let j = 0; j < d; j++) {
    mean[j] += xtr[r * d + j] / n;
    sq[j] += xtr[r * d + j] ** 2 / n;
  }
const std = Float32Array.from(mean, (m, j) => Math.sqrt(Math.max(0, sq[j] - m * m)));
const steps = epochs * Math.ceil(n / bs);
const model = new SoftmaxRegression({
  dims: d,
  classes: 10,
  mean,
  std,
  l2: l2mul / n,
  learningRate: lr,
  steps,
  averageFrom: Math.floor(steps * (1 - avgFrac)),
});
const rnd = new Random(1);
const order = Int32Array.from({ length: n }, (_, i) => i);
const t0 = performance.now();
const xb = new Float32Array(bs * d),
  yb = new Int32Array(bs);
for (let e = 0; e < epochs; e++) {
  for (let i = n - 1; i > 0; i--) {
    const j = rnd.int(i + 1);
    [order[i], order[j]] = [order[j], order[i]];
  }
  for (let s = 0; s < n; s += bs) {
    const m = Math.min(bs, n - s);
    for (let r = 0; r < m; r++) {
      xb.set(xtr.subarray(order[s + r] * d, order[s + r] * d + d), r * d);
      yb[r] = ytr[order[s + r]];
    }
    tf.tidy(() => model.step(tf.tensor2d(xb.subarray(0, m * d), [m, d]), yb.subarray(0, m)));
  }
}
const p = tf.tidy(() => model.predict(tf.tensor2d(xte, [yte.length, d])));
let ok = 0;
for (let i = 0; i < yte.length; i++) if (p[i] === yte[i]) ok++;
console.log(
  set,
  'lr',
  lr,
  'epochs',
  epochs,
  'avg',
  avgFrac,
  'l2x',
  l2mul,
  'bs',
  bs,
  'acc',
  ok / yte.length,
  'ms/step',
  ((performance.now() - t0) / steps).toFixed(2),
);
