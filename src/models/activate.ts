import * as tf from '@tensorflow/tfjs-core';
import type { Activation } from './layers.js';

/** A layer's activation on its outputs: the same op in training (dense.ts) and in a loaded model (denseStack.ts). */
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
