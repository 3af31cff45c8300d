import * as tf from '@tensorflow/tfjs-core';

/**
 * A float32 tensor's values, to be read at once: on the WASM backend a view of its memory (no copy; it is
 * invalid once the tensor is disposed or tfjs allocates again), elsewhere a copy. Large outputs read this way
 * (a training step's ~2 MB of gradients, a block of neighbour distances) make no garbage for the worker's
 * collector, which otherwise runs on its own threads and takes CPU from the work.
 */
export function heapView(t: tf.Tensor): Float32Array {
  const backend = tf.backend() as Partial<{ typedArrayFromHeap(t: tf.TensorInfo): Float32Array }>;
  return typeof backend.typedArrayFromHeap === 'function' ? backend.typedArrayFromHeap(t) : (t.dataSync() as Float32Array);
}
