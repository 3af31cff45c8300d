import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';

/** The native matMul (`native/gemm.cc`, built for this machine when the package installs). */
export interface NativeGemm {
  /** c (m × n) = a (m × k) · b (k × n), row-major; throws on arrays shorter than the sizes say. */
  gemm(a: Float32Array, b: Float32Array, c: Float32Array, m: number, k: number, n: number): void;
  /** The best kernel this CPU runs: `avx512`, `avx2` (AVX2 and FMA), or `portable` (a plain loop: not used). */
  readonly kernel: string;
  /** Every kernel this CPU runs, by name, each with gemm's signature (for tests and `bench/gemm.mjs`). */
  readonly kernels: Readonly<Record<string, NativeGemm['gemm']>>;
}

const addon = fileURLToPath(new URL('../../native/build/Release/aeflow_gemm.node', import.meta.url));

/**
 * The native matMul, or why it is not used: not built (no C++ compiler when the package installed), or turned
 * off with AEFLOW_NATIVE_MATMUL=0.
 */
export function loadNativeGemm(): { gemm: NativeGemm | null; reason: string } {
  if (process.env.AEFLOW_NATIVE_MATMUL === '0') return { gemm: null, reason: 'off (AEFLOW_NATIVE_MATMUL=0)' };
  if (!existsSync(addon)) return { gemm: null, reason: 'not built (npm run native)' };
  try {
    return { gemm: createRequire(import.meta.url)(addon) as NativeGemm, reason: '' };
  } catch (e) {
    return { gemm: null, reason: `did not load (${e instanceof Error ? e.message.split('\n')[0] : String(e)})` };
  }
}

/** What the WASM backend keeps of a tensor: its values live in the WASM heap. */
interface WasmBackend {
  makeOutput(shape: number[], dtype: 'float32'): tf.TensorInfo;
  typedArrayFromHeap(t: tf.TensorInfo): Float32Array;
}

/**
 * Hands the WASM backend's plain matMuls of two float32 matrices to the native kernel, in this thread; matMuls
 * with transposes or batch dimensions, and other dtypes, stay with tfjs's own (the dense layers here transpose
 * explicitly, so their matMuls are all plain). tfjs's WASM matMul (XNNPACK in WebAssembly SIMD, 128-bit vectors,
 * no FMA) is several times slower on the reference shapes than the native one with AVX-512 or AVX2
 * (`node bench/gemm.mjs` compares them). Results differ from XNNPACK's in the last bits (a different summation order, fused
 * multiply-adds). Returns the kernel in use, or null with the reason it is not.
 */
export function useNativeMatMul(): { kernel: string | null; reason: string } {
  const { gemm, reason } = loadNativeGemm();
  if (!gemm) return { kernel: null, reason };
  // Without AVX2 and FMA the plain loop is no faster than tfjs's WebAssembly SIMD matMul.
  if (gemm.kernel === 'portable') return { kernel: null, reason: 'this CPU has neither AVX-512 nor AVX2 with FMA' };
  if (tf.getBackend() !== 'wasm') return { kernel: null, reason: `backend is ${tf.getBackend()}` };
  const original = tf.getKernel('BatchMatMul', 'wasm');
  if (!original) return { kernel: null, reason: 'no BatchMatMul kernel to replace' };
  if ((original.kernelFunc as { native?: boolean }).native) return { kernel: gemm.kernel, reason: '' };
  const kernelFunc: tf.KernelFunc = (args) => {
    const { a, b } = args.inputs as { a: tf.TensorInfo; b: tf.TensorInfo };
    const { transposeA, transposeB } = args.attrs as { transposeA: boolean; transposeB: boolean };
    const plain = !transposeA && !transposeB && a.shape.length === 2 && b.shape.length === 2 && a.dtype === 'float32' && b.dtype === 'float32';
    if (!plain || a.shape[1] !== b.shape[0] || a.shape[0] === 0 || a.shape[1] === 0 || b.shape[1] === 0) return original.kernelFunc(args);
    const [m, k] = a.shape;
    const n = b.shape[1];
    const backend = args.backend as unknown as WasmBackend;
    // The output first: allocating it may grow the heap, which replaces the buffer views are made on.
    const out = backend.makeOutput([m, n], 'float32');
    gemm.gemm(backend.typedArrayFromHeap(a), backend.typedArrayFromHeap(b), backend.typedArrayFromHeap(out), m, k, n);
    return out;
  };
  (kernelFunc as { native?: boolean }).native = true;
  tf.unregisterKernel('BatchMatMul', 'wasm');
  tf.registerKernel({ kernelName: original.kernelName, backendName: original.backendName, kernelFunc });
  return { kernel: gemm.kernel, reason: '' };
}
