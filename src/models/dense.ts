import * as tf from '@tensorflow/tfjs-core';
import { initDense } from './init.js';
import { activate } from './activate.js';
import type { DenseLayerSpec, Initializer } from './layers.js';

/**
 * How activations and dense weights are laid out on a backend.
 *
 * - `rows`: activations are batch × features and a kernel is inputs × units, as in Keras: z = x·W + b.
 * - `features`: activations are features × batch and a kernel is units × inputs (PyTorch's nn.Linear order):
 *   z = W·x + b. On the WASM backend every matMul hands its second operand to XNNPACK, which repacks it first
 *   (`node bench/pack.mjs` measures the cost): with the batch in the second operand, the repacking shrinks with
 *   the batch, so a worker's share of a batch costs less; with weights there, every worker pays for whole
 *   weight matrices on every step. The backward pass also needs no transposed matMul (far slower on WASM than a
 *   plain one): it transposes explicitly.
 */
export type Layout = 'rows' | 'features';

/** One dense layer's trainable weights, stored in the layout of the kernel that trains them. */
export interface DenseVariables {
  readonly spec: DenseLayerSpec;
  readonly layout: Layout;
  /** inputs × units (`rows`) or units × inputs (`features`). */
  readonly w: tf.Variable<tf.Rank.R2>;
  /** [units] (`rows`) or [units, 1] (`features`): broadcast along the batch either way. */
  readonly b: tf.Variable<tf.Rank.R1 | tf.Rank.R2>;
}

/** Runs dense layers in one layout. `inputIsData`: x needs no gradient (data, or codes of frozen layers). */
export interface DenseKernel {
  readonly layout: Layout;
  apply(x: tf.Tensor2D, w: tf.Variable<tf.Rank.R2>, b: tf.Tensor, inputIsData: boolean): tf.Tensor2D;
}

/** x·W + b with tfjs's own gradient: native TensorFlow needs no help. */
export const rowsKernel: DenseKernel = {
  layout: 'rows',
  apply: (x, w, b) => tf.add(tf.matMul(x, w), b),
};

/**
 * W·x + b, features × batch, with a backward pass of plain matMuls after explicit transposes. x is saved for
 * the backward pass (the forward pass's intermediates are disposed before it runs; tfjs keeps a copy of what is
 * saved); W, a variable that outlives both passes, is closed over instead, which spares copying the weights.
 */
function featuresDense(x: tf.Tensor2D, w: tf.Variable<tf.Rank.R2>, b: tf.Tensor2D): tf.Tensor2D {
  const op = tf.customGrad(((xv: tf.Tensor2D, wv: tf.Tensor2D, bv: tf.Tensor2D, save: tf.GradSaveFunc) => {
    save([xv]);
    return {
      value: tf.add(tf.matMul(wv, xv), bv),
      gradFunc: (dz: tf.Tensor2D, saved: tf.Tensor[]) => [
        tf.matMul(tf.transpose(w), dz),
        tf.matMul(dz, tf.transpose(saved[0] as tf.Tensor2D)),
        tf.sum(dz, 1, true),
      ],
    };
  }) as never) as unknown as (x: tf.Tensor2D, w: tf.Tensor2D, b: tf.Tensor2D) => tf.Tensor2D;
  return op(x, w, b);
}

/**
 * The same for an x that needs no gradient: x is closed over rather than an input, so the backward pass skips
 * x's gradient (for the first layer, a matMul as large as the forward one). A custom gradient computes every
 * input's gradient, so this is the only way to leave one out.
 */
function featuresDenseFromData(x: tf.Tensor2D, w: tf.Tensor2D, b: tf.Tensor2D): tf.Tensor2D {
  const op = tf.customGrad(((wv: tf.Tensor2D, bv: tf.Tensor2D, save: tf.GradSaveFunc) => {
    // Saved, so it outlives the forward pass when it is an intermediate (the input's transpose, codes of frozen layers).
    save([x]);
    return {
      value: tf.add(tf.matMul(wv, x), bv),
      gradFunc: (dz: tf.Tensor2D, saved: tf.Tensor[]) => [tf.matMul(dz, tf.transpose(saved[0] as tf.Tensor2D)), tf.sum(dz, 1, true)],
    };
  }) as never) as unknown as (w: tf.Tensor2D, b: tf.Tensor2D) => tf.Tensor2D;
  return op(w, b);
}

export const featuresKernel: DenseKernel = {
  layout: 'features',
  apply: (x, w, b, inputIsData) => (inputIsData ? featuresDenseFromData(x, w, b as tf.Tensor2D) : featuresDense(x, w, b as tf.Tensor2D)),
};

/** The kernel that is fastest on the backend in use. */
export function kernelFor(backend: string): DenseKernel {
  return backend === 'tensorflow' ? rowsKernel : featuresKernel;
}

/** A dense layer's variables in a layout, initialised from the seeded generator (same numbers on every backend). */
export function makeDense(layer: DenseLayerSpec, init: Initializer, seed: number, label: string, layout: Layout): DenseVariables {
  const { w, b } = initDense(layer, init, seed, label);
  if (layout === 'rows') {
    return { spec: layer, layout, w: variable(tf.tensor2d(w, [layer.inputs, layer.units])), b: variable(tf.tensor1d(b)) };
  }
  const wt = transposeArray(w, layer.inputs, layer.units);
  return { spec: layer, layout, w: variable(tf.tensor2d(wt, [layer.units, layer.inputs])), b: variable(tf.tensor2d(b, [layer.units, 1])) };
}

/** A trainable variable from a tensor, which is then disposed. */
function variable<R extends tf.Rank>(initial: tf.Tensor<R>): tf.Variable<R> {
  const v = tf.variable(initial, true);
  initial.dispose();
  return v;
}

/** The variables of layers, in order: each layer's kernel, then its bias. */
export function variablesOf(layers: readonly DenseVariables[]): tf.Variable[] {
  return layers.flatMap((l) => [l.w, l.b]);
}

/**
 * Converts the values of `layers`' variables (kernel, bias, kernel, bias...) between their stored layout and
 * the canonical one (kernels inputs × units, what tfjs Dense layers and checkpoints hold). The bias needs no
 * change: its values are in the same order either way.
 */
export function toCanonical(layers: readonly DenseVariables[], values: readonly Float32Array[]): Float32Array[] {
  return convert(layers, values, (l, a) => transposeArray(a, l.spec.units, l.spec.inputs));
}

export function fromCanonical(layers: readonly DenseVariables[], values: readonly Float32Array[]): Float32Array[] {
  return convert(layers, values, (l, a) => transposeArray(a, l.spec.inputs, l.spec.units));
}

function convert(
  layers: readonly DenseVariables[],
  values: readonly Float32Array[],
  transpose: (l: DenseVariables, a: Float32Array) => Float32Array,
): Float32Array[] {
  return values.map((a, i) => {
    const l = layers[i >> 1];
    return i % 2 === 0 && l.layout === 'features' ? transpose(l, a) : a;
  });
}

/** A row-major rows × cols matrix transposed (a new array). */
export function transposeArray(a: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(a.length);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) out[c * rows + r] = a[r * cols + c];
  }
  return out;
}

/** Applies dense layers in order, each followed by its activation; `inputIsData`: x needs no gradient. */
export function applyDense(kernel: DenseKernel, layers: readonly DenseVariables[], x: tf.Tensor2D, inputIsData = false): tf.Tensor2D {
  let h = x;
  for (const [i, l] of layers.entries()) h = activate(kernel.apply(h, l.w, l.b, inputIsData && i === 0), l.spec.activation);
  return h;
}

/** Batch-major rows into the kernel's layout, and back (the same transpose both ways). */
export function toLayout(kernel: DenseKernel, rows: tf.Tensor2D): tf.Tensor2D {
  return kernel.layout === 'rows' ? rows : tf.transpose(rows);
}

export const fromLayout = toLayout;
