import { identity } from 'rxjs';
import { z } from 'zod';
import { addNoise } from '../operators/addNoise.js';
import { deriveSeed } from '../random.js';
import { defineStage } from './stage.js';

const schema = z
  .object({
    type: z.literal('noise'),
    kind: z.enum(['gaussian', 'masking', 'salt-pepper']),
    /** gaussian: standard deviation, in the units of the normalized data. */
    stddev: z.number().min(0).optional(),
    /** masking, salt-pepper: the share of values corrupted. */
    fraction: z.number().min(0).max(1).optional(),
    /** Overrides the pipeline seed for the noise only. */
    seed: z.number().int().min(0).optional(),
  })
  .strict()
  .superRefine((n, ctx) => {
    const wants = n.kind === 'gaussian' ? 'stddev' : 'fraction';
    const other = n.kind === 'gaussian' ? 'fraction' : 'stddev';
    if (n[wants] === undefined) ctx.addIssue({ code: 'custom', path: [wants], message: `${n.kind} noise needs ${wants}` });
    if (n[other] !== undefined) ctx.addIssue({ code: 'custom', path: [other], message: `${n.kind} noise takes ${wants}, not ${other}` });
  });

/**
 * Corrupts the rows for a denoising autoencoder: the model sees noisy input, its loss compares with the clean
 * row. Fresh noise every training epoch; the test split gets the same noise every epoch (so test losses compare);
 * `encode` passes rows clean.
 */
export const noiseStage = defineStage<z.infer<typeof schema>>({
  type: 'noise',
  schema,
  output: 'rows',
  create(options, context) {
    if (context.split === 'encode') return identity;
    const seed = deriveSeed(options.seed ?? context.seed, 'noise', context.split, context.epoch);
    return addNoise({ kind: options.kind, stddev: options.stddev, fraction: options.fraction, range: context.range }, seed);
  },
  describe: (o) => `noise(${o.kind} ${o.kind === 'gaussian' ? `stddev ${o.stddev}` : `fraction ${o.fraction}`})`,
});
