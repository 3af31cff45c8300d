import { z } from 'zod';
import { activations, denseStack, initializers, type DenseAutoencoderSpec } from './layers.js';
import type { ModelDefinition } from './model.js';

const sizes = z.array(z.number().int().min(1)).min(2);

/** The options every dense autoencoder shares (plain and stacked). */
export const denseOptions = {
  /** Layer widths from the input to the code, e.g. [784, 256, 128, 100]. */
  encoder: sizes,
  /** Layer widths from the code to the output; the encoder mirrored when left out. */
  decoder: sizes.optional(),
  /** Activation after every layer but the decoder's last. */
  activation: z.enum(activations).default('sigmoid'),
  /** Activation after the decoder's last layer; `activation` when left out. */
  output_activation: z.enum(activations).optional(),
  /** Activation after the encoder's last layer (the code); `activation` when left out. */
  code_activation: z.enum(activations).optional(),
  init: z.enum(initializers).default('torch'),
};

/** The decoder must run from the code size back to the input width. */
export function checkMirror(m: { encoder: number[]; decoder?: number[] }, ctx: z.RefinementCtx): void {
  const decoder = m.decoder ?? [...m.encoder].reverse();
  if (decoder[0] !== m.encoder[m.encoder.length - 1]) {
    ctx.addIssue({
      code: 'custom',
      path: ['decoder', 0],
      message: `the decoder must start at the code size ${m.encoder[m.encoder.length - 1]}, got ${decoder[0]}`,
    });
  }
  if (decoder[decoder.length - 1] !== m.encoder[0]) {
    ctx.addIssue({
      code: 'custom',
      path: ['decoder', decoder.length - 1],
      message: `the decoder must end at the input width ${m.encoder[0]}, got ${decoder[decoder.length - 1]}`,
    });
  }
}

const schema = z
  .object({ type: z.literal('dense-autoencoder'), ...denseOptions })
  .strict()
  .superRefine(checkMirror);

export type DenseAutoencoderOptions = z.infer<typeof schema>;

/** An MLP autoencoder: dense layers down to a code, dense layers back up. */
export const denseAutoencoder: ModelDefinition<DenseAutoencoderOptions> = {
  type: 'dense-autoencoder',
  schema,
  trainEpochs: 'required',
  generative: false,
  inputWidth: (m) => m.encoder[0],
  codeSize: (m) => m.encoder[m.encoder.length - 1],
  spec: denseSpec,
  phases: (_, epochs) => [{ name: 'train', epochs: epochs ?? 0, layer: null }],
  describe: (m) => `dense-ae ${m.encoder.join('-')} | ${(m.decoder ?? [...m.encoder].reverse()).join('-')} ${m.activation}`,
};

/** The worker-side spec of a dense autoencoder (plain or stacked: the layers are the same). */
export function denseSpec(m: Omit<DenseAutoencoderOptions, 'type'>, seed: number): DenseAutoencoderSpec {
  const decoder = m.decoder ?? [...m.encoder].reverse();
  return {
    type: 'dense-autoencoder',
    encoder: denseStack(m.encoder, m.activation, m.code_activation ?? m.activation),
    decoder: denseStack(decoder, m.activation, m.output_activation ?? m.activation),
    init: m.init,
    seed,
  };
}
