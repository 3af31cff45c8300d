import * as tf from '@tensorflow/tfjs-core';

export type LossName = 'half-mse' | 'mse' | 'binary-crossentropy';

/** Mean reconstruction loss over every element of the batch, as a scalar. */
export function reconstructionLoss(name: LossName, y: tf.Tensor2D, target: tf.Tensor2D): tf.Scalar {
  switch (name) {
    case 'half-mse':
      return tf.mul(0.5, tf.mean(tf.squaredDifference(y, target)));
    case 'mse':
      return tf.mean(tf.squaredDifference(y, target));
    case 'binary-crossentropy': {
      const eps = 1e-7;
      const p = tf.clipByValue(y, eps, 1 - eps);
      const terms = tf.add(tf.mul(target, tf.log(p)), tf.mul(tf.sub(1, target), tf.log(tf.sub(1, p))));
      return tf.neg(tf.mean(terms));
    }
  }
}
