import * as tf from '@tensorflow/tfjs';
import { afterAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../../src/backend.js';
import { loadNativeGemm, useNativeMatMul } from '../../src/models/nativeMatMul.js';
import { Random } from '../../src/random.js';

const native = loadNativeGemm();
// CI sets AEFLOW_REQUIRE_NATIVE=1: there the addon must have been built by `npm ci`. Elsewhere (no C++ compiler)
// the native tests are skipped and training uses tfjs's own matMul.
const required = process.env.AEFLOW_REQUIRE_NATIVE === '1';

function random(n: number, seed: number): Float32Array {
  const r = new Random(seed);
  return Float32Array.from({ length: n }, () => r.normal());
}

/** a (m × k) · b (k × n) in doubles, and the sum of |a||b| per element (the scale of its rounding error). */
function reference(a: Float32Array, b: Float32Array, m: number, k: number, n: number): { c: Float64Array; scale: Float64Array } {
  const c = new Float64Array(m * n);
  const scale = new Float64Array(m * n);
  for (let i = 0; i < m; i++) {
    for (let p = 0; p < k; p++) {
      const x = a[i * k + p];
      for (let j = 0; j < n; j++) {
        c[i * n + j] += x * b[p * n + j];
        scale[i * n + j] += Math.abs(x * b[p * n + j]);
      }
    }
  }
  return { c, scale };
}

function worstError(got: ArrayLike<number>, want: { c: Float64Array; scale: Float64Array }): number {
  let worst = 0;
  for (let i = 0; i < want.c.length; i++) worst = Math.max(worst, Math.abs(got[i] - want.c[i]) / want.scale[i]);
  return worst;
}

// Shapes around the kernel's blocks (8 rows, 32 columns, masked tails) and the reference model's.
const shapes: Array<[number, number, number]> = [
  [1, 1, 1],
  [3, 5, 7],
  [9, 17, 33],
  [13, 2, 47],
  [100, 128, 128],
  [256, 784, 128],
  [784, 128, 100],
];

describe('the native matMul', () => {
  it('can be turned off, and says so (training then uses tfjs matMul)', () => {
    const saved = process.env.AEFLOW_NATIVE_MATMUL;
    process.env.AEFLOW_NATIVE_MATMUL = '0';
    try {
      expect(loadNativeGemm()).toEqual({ gemm: null, reason: 'off (AEFLOW_NATIVE_MATMUL=0)' });
      expect(useNativeMatMul()).toEqual({ kernel: null, reason: 'off (AEFLOW_NATIVE_MATMUL=0)' });
    } finally {
      if (saved === undefined) delete process.env.AEFLOW_NATIVE_MATMUL;
      else process.env.AEFLOW_NATIVE_MATMUL = saved;
    }
  });

  it('is built where the environment says it must be', () => {
    if (required) expect(native.reason).toBe('');
    expect(native.gemm !== null || native.reason !== '').toBe(true);
  });

  it.skipIf(!native.gemm)('every kernel this CPU runs multiplies within float32 rounding, on shapes around its blocks', () => {
    const kernels = Object.entries(native.gemm!.kernels);
    expect(kernels.map(([name]) => name)).toContain('portable');
    expect(kernels[0][0]).toBe(native.gemm!.kernel); // the best first, and the one gemm runs
    if (required) expect(kernels.map(([name]) => name)).toEqual(['avx512', 'avx2', 'portable']); // CI's CPUs have AVX-512
    for (const [name, gemm] of kernels) {
      for (const [m, k, n] of shapes) {
        const a = random(m * k, m);
        const b = random(k * n, n);
        const c = new Float32Array(m * n).fill(Number.NaN); // every element must be written
        gemm(a, b, c, m, k, n);
        expect(worstError(c, reference(a, b, m, k, n)), `${name} ${m}x${k}x${n}`).toBeLessThan(1e-6);
      }
    }
  });

  it.skipIf(!native.gemm)('refuses wrong arguments instead of touching memory it does not own', () => {
    const gemm = native.gemm!;
    const a = new Float32Array(6);
    expect(() => gemm.gemm(a, a, new Float32Array(3), 2, 3, 2)).toThrow(RangeError);
    expect(() => gemm.gemm(a, a, a, 0, 3, 2)).toThrow(TypeError);
    expect(() => gemm.gemm(a, new Float64Array(6) as never, a, 2, 3, 2)).toThrow(TypeError);
    expect(() => (gemm.gemm as (...args: unknown[]) => void)(a, a)).toThrow(TypeError);
  });
});

describe.skipIf(!native.gemm || native.gemm.kernel === 'portable')('tfjs on WASM with the native matMul', () => {
  afterAll(() => tf.disposeVariables());

  it("runs plain matMuls natively and leaves transposed and batched ones to tfjs's, all correct, nothing leaked", async () => {
    await selectBackend('wasm');
    expect(useNativeMatMul().kernel).toBe(native.gemm!.kernel);
    expect((tf.getKernel('BatchMatMul', 'wasm')?.kernelFunc as { native?: boolean } | undefined)?.native).toBe(true);
    expect(useNativeMatMul().kernel).toBe(native.gemm!.kernel); // a second call keeps the one kernel
    const before = tf.memory().numTensors;
    const [m, k, n] = [37, 70, 45];
    const a = random(m * k, 1);
    const b = random(k * n, 2);
    const want = reference(a, b, m, k, n);
    const ta = tf.tensor2d(a, [m, k]);
    const tb = tf.tensor2d(b, [k, n]);
    const cases: Array<[string, () => tf.Tensor]> = [
      ['plain', () => tf.matMul(ta, tb)],
      ['transposeA', () => tf.matMul(tf.transpose(ta), tb, true, false)],
      ['transposeB', () => tf.matMul(ta, tf.transpose(tb), false, true)],
      ['batched', () => tf.matMul(ta.reshape([1, m, k]), tb.reshape([1, k, n])).reshape([m, n])],
    ];
    for (const [name, run] of cases) {
      const c = tf.tidy(run);
      expect(c.shape, name).toEqual([m, n]);
      expect(worstError(c.dataSync(), want), name).toBeLessThan(1e-6);
      c.dispose();
    }
    ta.dispose();
    tb.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('gives the gradients of a dense layer as tfjs computes them', async () => {
    await selectBackend('wasm');
    const x = tf.tensor2d(random(20 * 30, 3), [20, 30]);
    const w = tf.tensor2d(random(30 * 10, 4), [30, 10]);
    const f = (wv: tf.Tensor) => tf.sum(tf.sigmoid(tf.matMul(x, wv as tf.Tensor2D)));
    const native = tf.grad(f)(w).dataSync();
    const expected = tf.tidy(() => {
      // the same gradient written out: xᵀ · (σ'(xw)), through transposed matMuls tfjs's own kernel runs
      const s = tf.sigmoid(tf.matMul(x, w));
      return tf.matMul(x, tf.mul(s, tf.sub(1, s)), true, false).dataSync();
    });
    for (let i = 0; i < expected.length; i++) expect(native[i]).toBeCloseTo(expected[i], 4);
    tf.dispose([x, w]);
  });
});
