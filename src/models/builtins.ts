import { Registry } from '../registry.js';
import { denseAutoencoder } from './denseAutoencoder.js';
import type { ModelDefinition } from './model.js';

/** Every built-in model type, listed here and nowhere else. */
export const models = new Registry<ModelDefinition<any>>('model').register(denseAutoencoder);
