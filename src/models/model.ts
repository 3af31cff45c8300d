import type { z } from 'zod';
import type { ModelSpec, Phase } from './layers.js';

/** A model type as `model.type` names it: its options' schema and the plain spec the worker builds from. */
export interface ModelDefinition<Options extends { type: string } = { type: string }> {
  readonly type: string;
  readonly schema: z.ZodType<Options>;
  /** Whether `train.epochs` sets the training length (`required`), or the model's own options do (`forbidden`). */
  readonly trainEpochs: 'required' | 'forbidden';
  /** A generative model: runs also write samples.png and interpolation.png (and manifold.png for a 2-d code). */
  readonly generative: boolean;
  inputWidth(options: Options): number;
  codeSize(options: Options): number;
  /** The worker-side description: plain data, sent to every worker. */
  spec(options: Options, seed: number): ModelSpec;
  /** The training schedule; `epochs` is train.epochs (undefined when the model counts its own). */
  phases(options: Options, epochs: number | undefined): Phase[];
  describe(options: Options): string;
}
