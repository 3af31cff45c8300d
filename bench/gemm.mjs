#!/usr/bin/env node
// The matMul on the WASM backend, tfjs's own (XNNPACK in WebAssembly SIMD) against aeflow's native kernel
// (native/gemm.cc, each of its kernels this CPU runs), on the reference model's shapes (per worker, 128 rows):
// GFLOP/s of each, one thread.
//   npm run build && node bench/gemm.mjs
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '../dist/backend.js';
import { loadNativeGemm } from '../dist/models/nativeMatMul.js';

process.env.AEFLOW_NATIVE_MATMUL = '0'; // the backend with tfjs's own matMul; the native one is called directly
await selectBackend('wasm');
delete process.env.AEFLOW_NATIVE_MATMUL;
const { gemm, reason } = loadNativeGemm();
const shapes = [
  [256, 784, 128, 'forward, first layer'],
  [784, 256, 128, 'forward, last layer'],
  [128, 256, 128, 'forward, middle'],
  [256, 128, 784, 'weight gradient, first layer'],
  [784, 128, 256, 'weight gradient, last layer'],
  [256, 784, 128, 'input gradient, last layer'],
];
const time = (f, reps) => {
  for (let i = 0; i < 5; i++) f();
  const t = performance.now();
  for (let i = 0; i < reps; i++) f();
  return (performance.now() - t) / reps;
};
console.log(`native matMul: ${gemm ? `${gemm.kernel} (every kernel this CPU runs below, GFLOP/s and x the wasm one)` : `unavailable: ${reason}`}`);
for (const [m, k, n, what] of shapes) {
  const flops = 2 * m * k * n;
  const a = tf.randomUniform([m, k]);
  const b = tf.randomUniform([k, n]);
  const wasm = time(() => {
    const c = tf.matMul(a, b);
    c.dataSync(); // read after, not returned from a tidy (which would walk the array)
    c.dispose();
  }, 200);
  let line = `${m}x${k} · ${k}x${n} (${what}): wasm ${(flops / wasm / 1e6).toFixed(1)} GFLOP/s`;
  if (gemm) {
    const [av, bv, cv] = [a.dataSync(), b.dataSync(), new Float32Array(m * n)];
    for (const [name, kernel] of Object.entries(gemm.kernels)) {
      const t = time(() => kernel(av, bv, cv, m, k, n), 200);
      line += `, ${name} ${(flops / t / 1e6).toFixed(1)} (${(wasm / t).toFixed(1)}x)`;
    }
  }
  console.log(line);
  tf.dispose([a, b]);
}
