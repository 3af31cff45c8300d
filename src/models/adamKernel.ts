import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Adam's update loop as a small WebAssembly function (SIMD, two doubles at a time), over Float32Arrays that live
 * in one WebAssembly.Memory. It computes exactly what FlatOptimizer's JavaScript loop computes (the same double
 * operations in the same order, rounded to float32 where the loop stores), so the two give bit-identical
 * parameters; it is faster than that loop, and `node bench/adam.mjs` measures by how much.
 *
 * The function is written in WebAssembly text (adam.wat beside this file), which `npm run build` assembles with
 * wabt into dist/models/ (scripts/assemble-wasm.mjs): adam.wasm imports an own memory, adam-shared.wasm a shared
 * one. Its `adam` export takes byte offsets of p, a, b, m, v, a byte length (a multiple of 8) and the constants,
 * and for every element i updates
 *   g = wa·a + wb·b;  m = β1·m + c1·g;  v = β2·v + (c2·g)·g;  p = p·decay − (rate·m) / (√v·scale + ε)
 * where the new m and v are used unrounded in the last line, as in the JavaScript loop, and `decay` is AdamW's
 * 1 − lr·λ (exactly 1 without weight decay, which leaves p as it was before the subtraction).
 */

/** The constants of one update, in the order the function takes them (after the offsets and length). */
export interface AdamConstants {
  readonly wa: number;
  readonly wb: number;
  readonly beta1: number;
  /** 1 − β1, computed once in double precision (as the JavaScript loop does). */
  readonly c1: number;
  readonly beta2: number;
  readonly c2: number;
  readonly rate: number;
  readonly scale: number;
  readonly epsilon: number;
  /** Decoupled weight decay's factor 1 − lr·λ (1: none). */
  readonly decay: number;
}

type AdamFunction = (p: number, a: number, b: number, m: number, v: number, bytes: number, ...constants: number[]) => void;

/** Adam's update on arrays that are views of one memory. */
export class AdamKernel {
  private readonly buffer: ArrayBufferLike;

  private constructor(
    memory: WebAssembly.Memory,
    private readonly run: AdamFunction,
  ) {
    this.buffer = memory.buffer;
  }

  /**
   * A kernel over `memory` (which must not grow), or null where it is no WebAssembly memory (see kernelMemory),
   * WebAssembly SIMD is not available or the assembled kernel is not installed (see kernelFile).
   */
  static over(memory: WebAssembly.Memory | ArrayBuffer | SharedArrayBuffer): AdamKernel | null {
    if (!(memory instanceof WebAssembly.Memory)) return null;
    const shared = typeof SharedArrayBuffer !== 'undefined' && memory.buffer instanceof SharedArrayBuffer;
    const module = compiled(shared);
    if (!module) return null;
    const instance = new WebAssembly.Instance(module, { env: { memory } });
    return new AdamKernel(memory, instance.exports.adam as AdamFunction);
  }

  /** Whether every array is a view of this kernel's memory. */
  covers(...arrays: readonly Float32Array[]): boolean {
    return arrays.every((a) => a.buffer === this.buffer);
  }

  /**
   * Updates elements from..to of p, m and v (views of the memory, of equal length) by the gradient wa·a + wb·b.
   * Returns the first element it left for the caller: the kernel works on pairs, so an odd count leaves one.
   */
  step(p: Float32Array, a: Float32Array, b: Float32Array, m: Float32Array, v: Float32Array, from: number, to: number, k: AdamConstants): number {
    const pairs = (to - from) >> 1;
    if (pairs > 0) {
      const at = (x: Float32Array) => x.byteOffset + from * 4;
      this.run(at(p), at(a), at(b), at(m), at(v), pairs * 8, k.wa, k.wb, k.beta1, k.c1, k.beta2, k.c2, k.rate, k.scale, k.epsilon, k.decay);
    }
    return from + pairs * 2;
  }
}

/** The most a WebAssembly memory holds here (65,536 pages of 64 KiB: 4 GiB). */
export const MAX_KERNEL_BYTES = 65536 * 65536;

/**
 * Memory to hold `floats` float32 values, shared between threads or not; it never grows. A WebAssembly memory,
 * so that AdamKernel can work in it, when it fits in `maxBytes`; else a plain (Shared)ArrayBuffer, where the
 * optimizer's JavaScript loop does the work (only models of hundreds of millions of parameters get there).
 */
export function kernelMemory(floats: number, shared: true, maxBytes?: number): WebAssembly.Memory | SharedArrayBuffer;
export function kernelMemory(floats: number, shared: false, maxBytes?: number): WebAssembly.Memory | ArrayBuffer;
export function kernelMemory(floats: number, shared: boolean, maxBytes?: number): WebAssembly.Memory | ArrayBuffer | SharedArrayBuffer;
export function kernelMemory(floats: number, shared: boolean, maxBytes = MAX_KERNEL_BYTES): WebAssembly.Memory | ArrayBuffer | SharedArrayBuffer {
  const bytes = floats * 4;
  const plain = () => (shared ? new SharedArrayBuffer(bytes) : new ArrayBuffer(bytes));
  if (bytes > maxBytes) return plain();
  const pages = Math.max(1, Math.ceil(bytes / 65536));
  try {
    return new WebAssembly.Memory({ initial: pages, maximum: pages, shared });
  } catch (e) {
    // The runtime could not reserve it (its address space or limits): the plain buffer may still fit.
    if (e instanceof RangeError) return plain();
    throw e;
  }
}

/**
 * The assembled kernel for a shared or an own memory. From compiled code it sits beside this file (null if it is
 * not there: the JavaScript loop does the work); when this module runs from source (tests), the one that
 * `npm run build` put in dist/ is used.
 */
function kernelFile(shared: boolean): string | null {
  const name = shared ? 'adam-shared.wasm' : 'adam.wasm';
  const here = fileURLToPath(import.meta.url);
  if (here.endsWith('.js')) {
    const beside = path.join(path.dirname(here), name);
    return existsSync(beside) ? beside : null;
  }
  const built = path.resolve(path.dirname(here), '../../dist/models', name);
  if (!existsSync(built)) throw new Error(`${built} is missing: run \`npm run build\` first`);
  return built;
}

const modules = new Map<boolean, WebAssembly.Module | null>();

/** The kernel's module, compiled once per variant; null where the file is missing or WebAssembly SIMD is not available. */
function compiled(shared: boolean): WebAssembly.Module | null {
  if (!modules.has(shared)) {
    const file = kernelFile(shared);
    const bytes = file === null ? null : readFileSync(file);
    modules.set(shared, bytes !== null && WebAssembly.validate(bytes) ? new WebAssembly.Module(bytes) : null);
  }
  return modules.get(shared) ?? null;
}
