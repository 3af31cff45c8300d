import { describe, expect, it } from 'vitest';
import { loadPipeline } from '../../src/config/load.js';
import { models } from '../../src/models/builtins.js';
import { formatLoss, objectiveOf } from '../../src/pipeline/objective.js';
import { fixture } from '../helpers.js';

const objective = async (yaml: string, sets: string[] = []) => {
  const { config } = await loadPipeline(fixture(yaml), sets);
  const phases = models.get(config.model.type).phases(config.model, config.train.epochs);
  return { last: objectiveOf(config, phases[phases.length - 1]), phases: phases.map((p) => objectiveOf(config, p)) };
};

describe('what a run’s loss is', () => {
  it('plain: the configured loss of each row’s reconstruction', async () => {
    expect((await objective('tiny.yaml')).last).toEqual({
      id: 'half-mse',
      label: 'half-mse',
      description: "half-mse (0.5·mean squared error) of each row's reconstruction",
    });
    expect((await objective('tiny.yaml', ['loss=binary-crossentropy'])).last.description).toMatch(/^binary cross-entropy .* of each row's reconstruction$/);
  });

  it('denoising: the clean target from the noisy input', async () => {
    expect((await objective('tiny-denoising.yaml')).last.description).toBe('half-mse (0.5·mean squared error) of the clean target from the noisy input');
  });

  it('a VAE: the negative ELBO, with its parts; a β-VAE says so', async () => {
    const vae = (await objective('tiny-vae.yaml')).last;
    expect(vae).toMatchObject({ id: 'negative-elbo', label: 'negative ELBO' });
    expect(vae.description).toBe(
      'negative ELBO: binary cross-entropy summed over the 16 values + KL(q(z|x) ‖ N(0, I)), per row; the test loss with z = the mean',
    );
    const beta = (await objective('tiny-vae.yaml', ['model.beta=4', 'model.reconstruction=mse'])).last;
    expect(beta.id).toBe('beta-vae');
    expect(beta.description).toMatch(/^β-VAE loss \(β = 4\): half the squared error summed over the 16 values \+ 4·KL/);
  });

  it('stacked: each greedy layer reconstructs its own input; fine-tuning the rows', async () => {
    const { phases } = await objective('tiny-stacked.yaml');
    expect(phases.map((p) => p.description)).toEqual([
      "half-mse (0.5·mean squared error) of greedy layer 1's own input (the rows) from its code",
      "half-mse (0.5·mean squared error) of greedy layer 2's own input (the codes of encoder layer 1) from its code",
      "half-mse (0.5·mean squared error) of each row's reconstruction",
    ]);
  });

  it('losses print with five decimals, or four significant digits from 10 up', () => {
    expect(formatLoss(0.0261455)).toBe('0.02615');
    expect(formatLoss(4.941234)).toBe('4.94123');
    expect(formatLoss(180.15774)).toBe('180.2');
    expect(formatLoss(16.43191)).toBe('16.43');
    expect(formatLoss(12345.6)).toBe('12346');
    expect(formatLoss(Number.NaN)).toBe('NaN');
  });
});
