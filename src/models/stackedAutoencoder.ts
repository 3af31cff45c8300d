import { z } from 'zod';
import { checkMirror, denseOptions, denseSpec } from './denseAutoencoder.js';
import type { Phase } from './layers.js';
import type { ModelDefinition } from './model.js';

const schema = z
  .object({
    type: z.literal('stacked-autoencoder'),
    ...denseOptions,
    /** Epochs of greedy pretraining for each encoder layer: one number for all, or one per layer. */
    layer_epochs: z.union([z.number().int().min(1), z.array(z.number().int().min(1)).min(1)]),
    /** Epochs training the whole stack end to end after pretraining; 0 for none. */
    fine_tune_epochs: z.number().int().min(0).default(0),
  })
  .strict()
  .superRefine((m, ctx) => {
    checkMirror(m, ctx);
    const layers = m.encoder.length - 1;
    if (m.decoder && m.decoder.length !== m.encoder.length) {
      ctx.addIssue({
        code: 'custom',
        path: ['decoder'],
        message: `a stacked autoencoder's decoder mirrors its encoder: ${layers} layers, not ${m.decoder.length - 1}`,
      });
    }
    if (Array.isArray(m.layer_epochs) && m.layer_epochs.length !== layers) {
      ctx.addIssue({
        code: 'custom',
        path: ['layer_epochs'],
        message: `one number per encoder layer: the encoder has ${layers} layers, got ${m.layer_epochs.length} numbers`,
      });
    }
  });

export type StackedAutoencoderOptions = z.infer<typeof schema>;

/**
 * A stacked autoencoder trained greedily layer by layer (Bengio et al. 2007; with a noise stage, the stacked
 * denoising autoencoder of Vincent et al. 2010): phase `layer-k` trains encoder layer k and its mirror decoder
 * layer to reconstruct the codes that the frozen layers below produce as the data streams; `fine-tune` then
 * trains the whole stack end to end. Its layers are a dense autoencoder's, so it saves and encodes the same way.
 */
export const stackedAutoencoder: ModelDefinition<StackedAutoencoderOptions> = {
  type: 'stacked-autoencoder',
  schema,
  trainEpochs: 'forbidden',
  generative: false,
  inputWidth: (m) => m.encoder[0],
  codeSize: (m) => m.encoder[m.encoder.length - 1],
  spec: (m, seed) => denseSpec(m, seed),
  phases(m) {
    const layers = m.encoder.length - 1;
    const phases: Phase[] = Array.from({ length: layers }, (_, i) => ({
      name: `layer-${i + 1}`,
      epochs: Array.isArray(m.layer_epochs) ? m.layer_epochs[i] : m.layer_epochs,
      layer: i + 1,
    }));
    if (m.fine_tune_epochs > 0) phases.push({ name: 'fine-tune', epochs: m.fine_tune_epochs, layer: null });
    return phases;
  },
  describe: (m) => `stacked-ae ${m.encoder.join('-')} (greedy x${m.encoder.length - 1}${m.fine_tune_epochs > 0 ? ' + fine-tune' : ''}) ${m.activation}`,
};
