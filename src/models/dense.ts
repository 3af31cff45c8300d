import * as tf from '@tensorflow/tfjs';
import { initDense } from './init.js';
import type { Activation, DenseLayerSpec, Initializer } from './layers.js';

/**
 * x·W + b. `inputIsData` says x needs no gradient (data, or codes of frozen layers): a dense op may then skip
 * computing one.
 */
export type DenseFn = (x: tf.Tensor2D, w: tf.Tensor2D, b: tf.Tensor1D, inputIsData?: boolean) => tf.Tensor2D;

/** One dense layer's trainable weights. */
export interface DenseVariables {
  readonly spec: DenseLayerSpec;
  readonly w: tf.Variable<tf.Rank.R2>;
  readonly b: tf.Variable<tf.Rank.R1>;
}

/** A dense layer's variables, initialised from the seeded generator (same numbers on every backend). */
export function makeDense(layer: DenseLayerSpec, init: Initializer, seed: number, label: string): DenseVariables {
  const { w, b } = initDense(layer, init, seed, label);
  return { spec: layer, w: variable(tf.tensor2d(w, [layer.inputs, layer.units])), b: variable(tf.tensor1d(b)) };
}

/** A trainable variable from a tensor, which is then disposed. */
function variable<R extends tf.Rank>(initial: tf.Tensor<R>): tf.Variable<R> {
  const v = tf.variable(initial, true);
  initial.dispose();
  return v;
}

/** Applies dense layers in order, each followed by its activation; `inputIsData`: x needs no gradient. */
export function applyDense(dense: DenseFn, layers: readonly DenseVariables[], x: tf.Tensor2D, inputIsData = false): tf.Tensor2D {
  let h = x;
  for (const [i, l] of layers.entries()) h = activate(dense(h, l.w, l.b, inputIsData && i === 0), l.spec.activation);
  return h;
}

/** x·W + b with tfjs's own gradient (matMul with transposeA / transposeB in the backward pass). */
export const plainDense: DenseFn = (x, w, b) => tf.add(tf.matMul(x, w), b);

/**
 * x·W + b whose backward pass transposes explicitly before plain matMuls. Same numbers as `plainDense`; on
 * the WASM backend a matMul with transposeA/transposeB runs ~2.3 GFLOP/s against ~28 for transpose + matMul,
 * which makes training several times faster there. Native TensorFlow needs no such help.
 */
const transposing = tf.customGrad(((x: tf.Tensor2D, w: tf.Tensor2D, b: tf.Tensor1D, save: tf.GradSaveFunc) => {
  save([x, w]);
  return {
    value: tf.add(tf.matMul(x, w), b),
    gradFunc: (dy: tf.Tensor2D, saved: tf.Tensor[]) => {
      const [xs, ws] = saved as [tf.Tensor2D, tf.Tensor2D];
      return [tf.matMul(dy, tf.transpose(ws)), tf.matMul(tf.transpose(xs), dy), tf.sum(dy, 0)];
    },
  };
}) as never) as unknown as (x: tf.Tensor2D, w: tf.Tensor2D, b: tf.Tensor1D) => tf.Tensor2D;

/**
 * The same for an x that needs no gradient: x is closed over rather than an input, so the backward pass skips
 * x's gradient (for the first layer, a matMul as large as the forward one). A custom gradient computes every
 * input's gradient, so this is the only way to leave one out.
 */
function transposingFromData(x: tf.Tensor2D, w: tf.Tensor2D, b: tf.Tensor1D): tf.Tensor2D {
  const op = tf.customGrad(((wv: tf.Tensor2D, bv: tf.Tensor1D, save: tf.GradSaveFunc) => {
    // Saved, so it outlives the forward pass when it is an intermediate (codes of frozen layers).
    save([x]);
    return {
      value: tf.add(tf.matMul(x, wv), bv),
      gradFunc: (dy: tf.Tensor2D, saved: tf.Tensor[]) => [tf.matMul(tf.transpose(saved[0] as tf.Tensor2D), dy), tf.sum(dy, 0)],
    };
  }) as never) as unknown as (w: tf.Tensor2D, b: tf.Tensor1D) => tf.Tensor2D;
  return op(w, b);
}

export const transposingDense: DenseFn = (x, w, b, inputIsData) => (inputIsData ? transposingFromData(x, w, b) : transposing(x, w, b));

/** The dense op that is fastest on the backend in use. */
export function denseFor(backend: string): DenseFn {
  return backend === 'tensorflow' ? plainDense : transposingDense;
}

export function activate(x: tf.Tensor2D, activation: Activation): tf.Tensor2D {
  switch (activation) {
    case 'sigmoid':
      return tf.sigmoid(x);
    case 'relu':
      return tf.relu(x);
    case 'tanh':
      return tf.tanh(x);
    case 'elu':
      return tf.elu(x);
    case 'linear':
      return x;
  }
}
