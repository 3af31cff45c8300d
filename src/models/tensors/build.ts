import { DenseAutoencoder } from './denseAutoencoder.js';
import type { DenseKernel } from '../dense.js';
import type { ModelSpec } from '../layers.js';
import type { LossName } from '../losses.js';
import type { TrainableModel } from './trainable.js';
import { VariationalAutoencoder } from './variationalAutoencoder.js';

/** The worker-side model for a spec. */
export function buildModel(spec: ModelSpec, kernel: DenseKernel, loss: LossName): TrainableModel {
  switch (spec.type) {
    case 'dense-autoencoder':
      return new DenseAutoencoder(spec, kernel, loss);
    case 'variational-autoencoder':
      return new VariationalAutoencoder(spec, kernel);
  }
}
