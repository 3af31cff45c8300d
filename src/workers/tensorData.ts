/** Tensors from the batches a worker receives, and numbers out of the tensors it computes. */
import * as tf from '@tensorflow/tfjs-core';
import type { BatchPayload } from './protocol.js';

/** Input and target tensors of a batch (the target is the input itself unless the batch carries one). */
export function batchTensors(batch: BatchPayload): [tf.Tensor2D, tf.Tensor2D] {
  const from = (batch.start ?? 0) * batch.cols;
  const to = from + batch.rows * batch.cols;
  // Batches in shared memory are reused once the step is done: the CPU backend, which would keep the array
  // itself, gets a copy; the others copy it into their own memory anyway.
  const own = (a: Float32Array) => (a.buffer instanceof SharedArrayBuffer && tf.getBackend() === 'cpu' ? a.slice(from, to) : a.subarray(from, to));
  const x = tf.tensor2d(own(batch.x), [batch.rows, batch.cols]);
  const target = batch.target ? tf.tensor2d(own(batch.target), [batch.rows, batch.cols]) : x;
  return [x, target];
}

/** Reads a tensor out after its tidy (returning arrays from inside a tidy is slow) and disposes it. */
export function readArray(t: tf.Tensor): Float32Array {
  const data = t.dataSync() as Float32Array;
  t.dispose();
  return data;
}

/** Reads a scalar out and disposes it. */
export function readScalar(t: tf.Scalar): number {
  const v = t.dataSync()[0];
  t.dispose();
  return v;
}

/** Keeps named scalars past the tidy they were made in; the caller reads them with readScalars. */
export function keepScalars(terms: Readonly<Record<string, tf.Scalar>>): Record<string, tf.Scalar> {
  const kept: Record<string, tf.Scalar> = {};
  for (const [name, t] of Object.entries(terms)) kept[name] = tf.keep(t);
  return kept;
}

/** Reads named scalars out and disposes them. */
export function readScalars(terms: Record<string, tf.Scalar>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [name, t] of Object.entries(terms)) out[name] = readScalar(t);
  return out;
}
