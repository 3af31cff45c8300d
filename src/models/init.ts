import { deriveSeed, Random } from '../random.js';
import type { DenseLayerSpec, Initializer } from './layers.js';

/** Initial weights of one dense layer, drawn from the seeded generator (same numbers on every backend). */
export function initDense(layer: DenseLayerSpec, init: Initializer, seed: number, label: string): { w: Float32Array; b: Float32Array } {
  const random = new Random(deriveSeed(seed, 'init', label));
  const { inputs, units } = layer;
  const w = new Float32Array(inputs * units);
  const b = new Float32Array(units);
  let limit: number;
  switch (init) {
    case 'torch':
      // nn.Linear: kaiming_uniform(a=√5) gives bound 1/√fan_in for weights; biases share that bound.
      limit = 1 / Math.sqrt(inputs);
      for (let i = 0; i < b.length; i++) b[i] = random.uniform(-limit, limit);
      break;
    case 'glorot-uniform':
      limit = Math.sqrt(6 / (inputs + units));
      break;
    case 'he-uniform':
      limit = Math.sqrt(6 / inputs);
      break;
  }
  for (let i = 0; i < w.length; i++) w[i] = random.uniform(-limit, limit);
  return { w, b };
}
