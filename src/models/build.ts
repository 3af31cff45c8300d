import { DenseAutoencoder } from './autoencoder.js';
import type { DenseFn } from './dense.js';
import type { ModelSpec } from './layers.js';
import type { LossName } from './losses.js';
import type { TrainableModel } from './trainable.js';
import { VariationalAutoencoder } from './vae.js';

/** The worker-side model for a spec. */
export function buildModel(spec: ModelSpec, dense: DenseFn, loss: LossName): TrainableModel {
  switch (spec.type) {
    case 'dense-autoencoder':
      return new DenseAutoencoder(spec, dense, loss);
    case 'variational-autoencoder':
      return new VariationalAutoencoder(spec, dense);
  }
}
