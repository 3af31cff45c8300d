import { Registry } from '../registry.js';
import { batchStage } from './batch.js';
import { noiseStage } from './noise.js';
import { shuffleStage } from './shuffle.js';
import type { StageDefinition } from './stage.js';

/** Every built-in stage, listed here and nowhere else. */
export const stages = new Registry<StageDefinition<any>>('stage').register(shuffleStage).register(noiseStage).register(batchStage);
