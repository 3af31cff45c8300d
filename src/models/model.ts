import type { z } from 'zod';
import type { ModelSpec } from './layers.js';

/** A model type as `model.type` names it: its options' schema and the plain spec the worker builds from. */
export interface ModelDefinition<Options extends { type: string } = { type: string }> {
  readonly type: string;
  readonly schema: z.ZodType<Options>;
  inputWidth(options: Options): number;
  codeSize(options: Options): number;
  /** The worker-side description: plain data, sent to every worker. */
  spec(options: Options, seed: number): ModelSpec;
  describe(options: Options): string;
}
