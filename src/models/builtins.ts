import { Registry } from '../registry.js';
import { denseAutoencoder } from './denseAutoencoder.js';
import type { ModelDefinition } from './model.js';
import { stackedAutoencoder } from './stackedAutoencoder.js';
import { variationalAutoencoder } from './variationalAutoencoder.js';

/** Every built-in model type, listed here and nowhere else. */
export const models = new Registry<ModelDefinition<any>>('model').register(denseAutoencoder).register(stackedAutoencoder).register(variationalAutoencoder);
