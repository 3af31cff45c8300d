#!/usr/bin/env node
// What XNNPACK's repacking of a matMul's second operand costs on tfjs's WASM backend: each reference-model
// shape (as the features layout runs it, 128 rows a worker) timed with the same second operand every call
// (packed once, cached by tfjs) and with a fresh copy every call (packed every time; the copy's own cost
// subtracted).   node bench/pack.mjs
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';

await tf.setBackend('wasm');
const time = (f, n = 200) => {
  for (let i = 0; i < 20; i++) f();
  const started = performance.now();
  for (let i = 0; i < n; i++) f();
  return (performance.now() - started) / n;
};
for (const [m, k, n] of [
  [256, 784, 128],
  [784, 256, 128],
  [128, 256, 128],
  [256, 128, 784],
  [784, 128, 256],
]) {
  const a = tf.randomUniform([m, k]);
  const b = tf.randomUniform([k, n]);
  const cached = time(() => tf.matMul(a, b).dispose());
  const copy = time(() => tf.clone(b).dispose());
  const fresh = time(() => {
    const bb = tf.clone(b);
    tf.matMul(a, bb).dispose();
    bb.dispose();
  });
  const packing = fresh - copy - cached;
  console.log(
    `${m}x${k} · ${k}x${n}: ${cached.toFixed(3)} ms packed once (${((2 * m * k * n) / cached / 1e6).toFixed(1)} GFLOP/s), ` +
      `+${packing.toFixed(3)} ms packing a fresh operand (${((packing * 1e6) / (k * n)).toFixed(1)} ns per element)`,
  );
  tf.dispose([a, b]);
}
