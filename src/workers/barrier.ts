import { AeflowError } from '../errors.js';
import type { SharedTraining } from './protocol.js';

/**
 * Waits until every replica has arrived (a generation barrier on shared memory). A replica that never arrives
 * (it died) ends the wait with an error rather than a hang.
 */
export function barrier(shared: SharedTraining): void {
  const state = new Int32Array(shared.barrier);
  const generation = Atomics.load(state, 1);
  if (Atomics.add(state, 0, 1) === shared.replicas - 1) {
    Atomics.store(state, 0, 0);
    Atomics.add(state, 1, 1);
    Atomics.notify(state, 1);
    return;
  }
  while (Atomics.load(state, 1) === generation) {
    if (Atomics.wait(state, 1, generation, 120_000) === 'timed-out') {
      throw new AeflowError(
        'WORKER_FAILED',
        'another worker did not finish its share of the batch within 120 s',
        'a worker died or hung; rerun with --verbose',
      );
    }
  }
}
