import * as tf from '@tensorflow/tfjs-core';
import { heapView } from '../models/heapView.js';
import { barrier } from './barrier.js';
import type { BatchPayload, SharedTraining, StepResult } from './protocol.js';
import { type Replica, setVariables, splitByVariable } from './replica.js';
import { batchTensors, keepScalars, readScalar, readScalars } from './tensorData.js';

/**
 * One training step on a batch: gradients; with several replicas (`shared`), the exchange through shared memory
 * described at SharedTraining; the optimizer's update at the step's learning rate; the variables set from the
 * parameters.
 */
export function trainStep(r: Replica, batch: BatchPayload & { shares?: readonly number[]; lr: number }, shared: SharedTraining | null): StepResult {
  const { variables, params, slots, optimizer } = r.training;
  const mine = shared ? slots[r.index] : slots[0];
  const result = batch.rows === 0 ? emptyShare(mine) : gradients(r, batch, mine);
  if (shared) {
    const size = params.length;
    barrier(shared);
    const from = Math.floor((size * r.index) / shared.replicas);
    const to = Math.floor((size * (r.index + 1)) / shared.replicas);
    // Every replica sums the slots in the same order: identical updates, identical weights.
    optimizer.step(params, { parts: slots, weights: batch.shares ?? [] }, from, to, batch.lr);
    barrier(shared);
  } else {
    optimizer.step(params, mine, 0, params.length, batch.lr);
  }
  setVariables(variables, splitByVariable(params, variables));
  return result;
}

/** A replica with no rows of this batch adds nothing to the sum, but still meets the others at the barriers. */
function emptyShare(slot: Float32Array): StepResult {
  slot.fill(0);
  return { loss: 0, terms: {} };
}

/** The loss on a batch and its gradient, written flat into `slot` (read straight out of the WASM heap). */
function gradients(r: Replica, batch: BatchPayload, slot: Float32Array): StepResult {
  const { variables } = r.training;
  let terms: Record<string, tf.Scalar> = {};
  const { value, grads } = tf.tidy(() => {
    const [x, target] = batchTensors(batch);
    return tf.variableGrads(() => {
      const v = r.model.loss(x, target, true);
      terms = keepScalars(v.terms);
      return v.total;
    }, variables);
  });
  let offset = 0;
  for (const v of variables) {
    slot.set(heapView(grads[v.name]), offset);
    offset += v.size;
  }
  tf.dispose(grads);
  return { loss: readScalar(value), terms: readScalars(terms) };
}
