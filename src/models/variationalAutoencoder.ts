import { z } from 'zod';
import { activations, denseStack, initializers, type VariationalAutoencoderSpec } from './layers.js';
import type { ModelDefinition } from './model.js';

const schema = z
  .object({
    type: z.literal('variational-autoencoder'),
    /** The input width, then the hidden layers' widths, e.g. [784, 512]. */
    encoder: z.array(z.number().int().min(1)).min(1),
    /** Latent dimensions (the code size): 2 gives a latent map and manifold.png. */
    latent: z.number().int().min(1),
    /** Hidden widths from the latent back up; the encoder's hidden widths mirrored when left out. */
    decoder_hidden: z.array(z.number().int().min(1)).optional(),
    activation: z.enum(activations).default('relu'),
    output_activation: z.enum(activations).default('sigmoid'),
    /** Per row, summed over features: binary cross-entropy (data in [0, 1]) or half the squared error. */
    reconstruction: z.enum(['binary-crossentropy', 'mse']).default('binary-crossentropy'),
    /** Weight of the KL term: 1 is the ELBO; above 1 a β-VAE. */
    beta: z.number().min(0).default(1),
    init: z.enum(initializers).default('glorot-uniform'),
  })
  .strict();

export type VariationalAutoencoderOptions = z.infer<typeof schema>;

function decoderSizes(m: VariationalAutoencoderOptions): number[] {
  const hidden = m.decoder_hidden ?? m.encoder.slice(1).reverse();
  return [m.latent, ...hidden, m.encoder[0]];
}

/**
 * A variational autoencoder (Kingma & Welling 2014): the encoder gives a mean and a log-variance, z is sampled
 * with the reparameterisation trick, the loss is reconstruction + β·KL to N(0, I). The saved encoder outputs the
 * means, which `encode` exports.
 */
export const variationalAutoencoder: ModelDefinition<VariationalAutoencoderOptions> = {
  type: 'variational-autoencoder',
  schema,
  trainEpochs: 'required',
  generative: true,
  inputWidth: (m) => m.encoder[0],
  codeSize: (m) => m.latent,
  spec(m, seed): VariationalAutoencoderSpec {
    return {
      type: 'variational-autoencoder',
      encoder: denseStack(m.encoder, m.activation, m.activation),
      latent: m.latent,
      decoder: denseStack(decoderSizes(m), m.activation, m.output_activation),
      reconstruction: m.reconstruction,
      beta: m.beta,
      init: m.init,
      seed,
    };
  },
  phases: (_, epochs) => [{ name: 'train', epochs: epochs ?? 0, layer: null }],
  describe: (m) => `vae ${m.encoder.join('-')} -> z${m.latent} -> ${decoderSizes(m).slice(1).join('-')} ${m.activation}, ${m.reconstruction} + ${m.beta}·KL`,
};
