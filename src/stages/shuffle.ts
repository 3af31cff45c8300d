import { identity } from 'rxjs';
import { z } from 'zod';
import { shuffleRows } from '../operators/shuffleWindow.js';
import { deriveSeed } from '../random.js';
import { defineStage } from './stage.js';

const schema = z
  .object({
    type: z.literal('shuffle'),
    /** Rows held at once; at least the row count gives a full permutation. */
    window: z.number().int().min(1).default(10_000),
    /** Overrides the pipeline seed for the shuffle only. */
    seed: z.number().int().min(0).optional(),
  })
  .strict();

/** A seeded window shuffle of the training rows, fresh every epoch; test and encode passes keep file order. */
export const shuffleStage = defineStage<z.infer<typeof schema>>({
  type: 'shuffle',
  schema,
  output: 'rows',
  create(options, context) {
    if (context.split !== 'train') return identity;
    return shuffleRows(options.window, deriveSeed(options.seed ?? context.seed, 'shuffle', context.epoch));
  },
  describe: (options) => `shuffle(window ${options.window}${options.seed === undefined ? '' : `, seed ${options.seed}`})`,
});
