import { availableParallelism } from 'node:os';
import { createRequire } from 'node:module';
import type { BackendChoice } from '../backend.js';

/**
 * How many workers `workers: auto` starts. WASM does not start threads in Node, so workers are how it uses cores;
 * the main thread needs one too (it reads, shuffles and batches the rows), so auto leaves it one: cores - 1, at
 * least 1. On 2 cores, 1 worker trained as fast as 2 (6,800 vs 6,950 samples/s, Fashion-MNIST) with 130 MB less
 * memory. Native TensorFlow (tfjs-node) is multi-threaded itself, and several instances in worker threads have been
 * reported to crash (tfjs #2079): one worker there.
 */
export function resolveWorkers(workers: number | 'auto', backend: BackendChoice): number {
  if (workers !== 'auto') return workers;
  if (backend === 'tensorflow' || (backend === 'auto' && tfjsNodeInstalled())) return 1;
  return Math.max(1, Math.min(8, availableParallelism() - 1));
}

function tfjsNodeInstalled(): boolean {
  try {
    createRequire(import.meta.url).resolve('@tensorflow/tfjs-node');
    return true;
  } catch {
    return false;
  }
}
