import { z } from 'zod';
import { batchRows } from '../operators/batchRows.js';
import { defineStage } from './stage.js';

const schema = z
  .object({
    type: z.literal('batch'),
    size: z.number().int().min(1),
  })
  .strict();

/** Packs rows into batches of `size` (the last one shorter); always the last stage. */
export const batchStage = defineStage<z.infer<typeof schema>>({
  type: 'batch',
  schema,
  output: 'batches',
  create: (options) => batchRows(options.size),
  describe: (options) => `batch(${options.size})`,
});
