/** What a trainer worker's replica computes on a batch without training it: the loss, codes, reconstructions. */
import * as tf from '@tensorflow/tfjs-core';
import { reconstructionLoss } from '../models/losses.js';
import type { BatchPayload, Requests } from './protocol.js';
import type { Replica } from './replica.js';
import { batchTensors, keepScalars, readArray, readScalar, readScalars } from './tensorData.js';

/** The loss on a batch, and the loss of the input itself against the target when they differ (denoising). */
export function evaluateBatch(r: Replica, batch: BatchPayload): Requests['evaluate']['result'] {
  let terms: Record<string, tf.Scalar> = {};
  let inputCost: tf.Scalar | null = null;
  const cost = tf.tidy(() => {
    const [x, target] = batchTensors(batch);
    const value = r.model.loss(x, target, false);
    terms = keepScalars(value.terms);
    if (target !== x) inputCost = tf.keep(reconstructionLoss(r.loss, x, target));
    return value.total;
  });
  return { loss: readScalar(cost), terms: readScalars(terms), inputLoss: inputCost ? readScalar(inputCost) : null };
}

/** Decodes the codes a batch holds. */
export function decodeBatch(r: Replica, batch: BatchPayload): Requests['decode']['result'] {
  const y = tf.tidy(() => r.model.decode(batchTensors(batch)[0]));
  const cols = y.shape[1];
  return { y: readArray(y), cols };
}

export function reconstructBatch(r: Replica, batch: BatchPayload): Requests['reconstruct']['result'] {
  const y = tf.tidy(() => r.model.reconstruct(batchTensors(batch)[0]));
  return { y: readArray(y) };
}

export function encodeBatch(r: Replica, batch: BatchPayload): Requests['encode']['result'] {
  const z = tf.tidy(() => r.model.encode(batchTensors(batch)[0]));
  const cols = z.shape[1];
  return { z: readArray(z), cols };
}
