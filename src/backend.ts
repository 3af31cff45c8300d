import * as tf from '@tensorflow/tfjs-core';
import { AeflowError } from './errors.js';
import { useNativeMatMul } from './models/nativeMatMul.js';

import type { BackendChoice, BackendName } from './types.js';

export type { BackendChoice, BackendName } from './types.js';

const order: BackendName[] = ['tensorflow', 'wasm', 'cpu'];

/** Why each backend that was tried did not load; printed when a run falls back. */
export interface BackendSelection {
  readonly name: BackendName;
  readonly skipped: ReadonlyArray<{ name: BackendName; reason: string }>;
  /** Whose matMul runs: `native avx512` (aeflow's native kernel on the WASM backend), else the backend's own. */
  readonly matMul: string;
}

/**
 * Chooses the tfjs backend once per thread. `auto` tries tfjs-node (native TensorFlow; an optional dependency
 * whose install downloads libtensorflow, so it is often absent), then WebAssembly, then plain JavaScript.
 * A forced choice that cannot load is an error, not a silent fallback.
 */
export async function selectBackend(choice: BackendChoice): Promise<BackendSelection> {
  const candidates = choice === 'auto' ? order : [choice];
  const skipped: Array<{ name: BackendName; reason: string }> = [];
  for (const name of candidates) {
    try {
      await load(name);
      if (!(await tf.setBackend(name))) throw new Error(`tf.setBackend('${name}') returned false`);
      await tf.ready();
      return { name, skipped, matMul: matMulOf(name) };
    } catch (e) {
      skipped.push({ name, reason: firstLine(e) });
    }
  }
  const why = skipped.map((s) => `${s.name}: ${s.reason}`).join('; ');
  throw new AeflowError(
    'BACKEND_UNAVAILABLE',
    `backend ${choice} could not start (${why})`,
    choice === 'tensorflow'
      ? '@tensorflow/tfjs-node needs libtensorflow, downloaded when it installs; use --backend auto to fall back to wasm'
      : 'use --backend auto',
  );
}

/** On WASM, the native matMul when it is built (`useNativeMatMul`); what runs matMuls, with why not native. */
function matMulOf(name: BackendName): string {
  if (name !== 'wasm') return name;
  const native = useNativeMatMul();
  return native.kernel ? `native ${native.kernel}` : `wasm (native: ${native.reason})`;
}

async function load(name: BackendName): Promise<void> {
  if (name === 'tensorflow') {
    // An optional dependency: the import fails when its install could not fetch libtensorflow.
    const module = '@tensorflow/tfjs-node';
    await import(module);
  } else if (name === 'wasm') {
    await import('@tensorflow/tfjs-backend-wasm');
  } else {
    await import('@tensorflow/tfjs-backend-cpu');
  }
}

function firstLine(e: unknown): string {
  const message = e instanceof Error ? e.message : String(e);
  return message.split('\n')[0].slice(0, 160);
}
