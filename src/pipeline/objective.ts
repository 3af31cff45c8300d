import type { Pipeline } from '../config/schema.js';
import type { Phase } from '../models/layers.js';
import type { Objective } from '../types.js';

export type { Objective } from '../types.js';

const words: Record<Pipeline['loss'], string> = {
  'half-mse': 'half-mse (0.5·mean squared error)',
  mse: 'mse (mean squared error)',
  'binary-crossentropy': 'binary cross-entropy (mean over every value)',
};

/**
 * The training objective of a pipeline (of its phase `phase`, by default the last: a stacked autoencoder's greedy
 * layers each reconstruct their own input). Under a noise stage the model sees the noisy row and is scored on the
 * clean one, which is why its losses differ from the evaluation's, taken on clean rows.
 */
export function objectiveOf(config: Pipeline, phase?: Phase): Objective {
  const noisy = config.stages.some((s) => s.type === 'noise');
  const from = noisy ? ' of the clean target from the noisy input' : " of each row's reconstruction";
  if (config.model.type === 'variational-autoencoder') return vaeObjective(config, noisy);
  const base = { id: config.loss, label: config.loss };
  if (phase?.layer == null) return { ...base, description: `${words[config.loss]}${from}` };
  const below = phase.layer === 1 ? 'the rows' : `the codes of encoder layer ${phase.layer - 1}`;
  return {
    ...base,
    description: `${words[config.loss]} of greedy layer ${phase.layer}'s own input (${below}) from its code${noisy ? ', the noisy input encoded, the clean one the target' : ''}`,
  };
}

function vaeObjective(config: Pipeline, noisy: boolean): Objective {
  const m = config.model as { reconstruction?: string; beta?: number; encoder?: number[] };
  const reconstruction = m.reconstruction === 'mse' ? 'half the squared error' : 'binary cross-entropy';
  const beta = m.beta ?? 1;
  const kl = beta === 1 ? 'KL(q(z|x) ‖ N(0, I))' : `${beta}·KL(q(z|x) ‖ N(0, I))`;
  const parts = `${reconstruction} summed over the ${m.encoder?.[0] ?? ''} values + ${kl}, per row; the test loss with z = the mean`;
  const target = noisy ? ', of the clean target from the noisy input' : '';
  return beta === 1
    ? { id: 'negative-elbo', label: 'negative ELBO', description: `negative ELBO: ${parts}${target}` }
    : { id: 'beta-vae', label: 'β-VAE loss', description: `β-VAE loss (β = ${beta}): ${parts}${target}` };
}

export { formatLoss } from '../sinks/consoleLog.js';
