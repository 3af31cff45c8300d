/**
 * The model registry. Each model type has two sides, named alike:
 * - `models/<type>.ts` (denseAutoencoder, stackedAutoencoder, variationalAutoencoder): the registry entry, on the
 *   config side: its YAML schema, the spec it sends to the workers, its training phases. No tensors.
 * - `models/tensors/<type>.ts` (denseAutoencoder, variationalAutoencoder): the tfjs model the trainer worker
 *   builds from that spec (`tensors/build.ts`), implementing `tensors/trainable.ts`. A stacked autoencoder
 *   trains as a dense one in phases, so it has no class of its own.
 */
import { Registry } from '../registry.js';
import { denseAutoencoder } from './denseAutoencoder.js';
import type { ModelDefinition } from './model.js';
import { stackedAutoencoder } from './stackedAutoencoder.js';
import { variationalAutoencoder } from './variationalAutoencoder.js';

/** Every built-in model type, listed here and nowhere else. */
export const models = new Registry<ModelDefinition<any>>('model').register(denseAutoencoder).register(stackedAutoencoder).register(variationalAutoencoder);
