import { availableParallelism } from 'node:os';
import { createRequire } from 'node:module';
import type { BackendChoice } from '../backend.js';

/**
 * How many workers `workers: auto` starts. WASM does not start threads in Node, so workers are how it uses cores:
 * one per core (at most 8). The main thread's share (reading, shuffling, batching) is small once the rows are
 * cached, so a worker per core trains faster than fewer (`npm run bench -- --only training --workers 1` against
 * the default compares them).
 * Native TensorFlow (tfjs-node) is multi-threaded itself, and several instances in worker threads have been
 * reported to crash (tfjs #2079): one worker there.
 */
export function resolveWorkers(workers: number | 'auto', backend: BackendChoice): number {
  if (workers !== 'auto') return workers;
  if (backend === 'tensorflow' || (backend === 'auto' && tfjsNodeInstalled())) return 1;
  return Math.max(1, Math.min(8, availableParallelism()));
}

function tfjsNodeInstalled(): boolean {
  try {
    createRequire(import.meta.url).resolve('@tensorflow/tfjs-node');
    return true;
  } catch {
    return false;
  }
}
