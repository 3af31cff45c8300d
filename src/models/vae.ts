import * as tf from '@tensorflow/tfjs';
import { deriveSeed } from '../random.js';
import { applyDense, type DenseFn, type DenseVariables, makeDense } from './dense.js';
import type { VariationalAutoencoderSpec } from './layers.js';
import type { LossValue, TrainableModel } from './trainable.js';

/**
 * A variational autoencoder (Kingma & Welling 2014): the encoder gives a mean and a log-variance per latent
 * dimension, z = mean + exp(logvar / 2)·ε with ε ~ N(0, I) (the reparameterisation trick), and the loss per row
 * is reconstruction + β·KL(q(z|x) ‖ N(0, I)), averaged over the batch: the negative ELBO when β = 1.
 * Reconstruction sums over features: binary cross-entropy, or half the squared error for `mse`.
 * Without training (evaluation) z is the mean.
 */
export class VariationalAutoencoder implements TrainableModel {
  readonly hidden: DenseVariables[];
  readonly mean: DenseVariables;
  readonly logVar: DenseVariables;
  readonly decoder: DenseVariables[];
  draws = 0;

  constructor(
    readonly spec: VariationalAutoencoderSpec,
    private readonly dense: DenseFn,
  ) {
    this.hidden = spec.encoder.map((l, i) => makeDense(l, spec.init, spec.seed, `encoder-${i}`));
    const width = spec.encoder.length > 0 ? spec.encoder[spec.encoder.length - 1].units : spec.decoder[spec.decoder.length - 1].units;
    this.mean = makeDense({ inputs: width, units: spec.latent, activation: 'linear' }, spec.init, spec.seed, 'mean');
    this.logVar = makeDense({ inputs: width, units: spec.latent, activation: 'linear' }, spec.init, spec.seed, 'logvar');
    this.decoder = spec.decoder.map((l, i) => makeDense(l, spec.init, spec.seed, `decoder-${i}`));
  }

  setPhase(layer: number | null): void {
    if (layer !== null) throw new RangeError('a variational autoencoder trains as a whole (no greedy layer phases)');
  }

  trainableVariables(): tf.Variable[] {
    return this.variables();
  }

  variables(): tf.Variable[] {
    return [...this.hidden, this.mean, this.logVar, ...this.decoder].flatMap((l) => [l.w, l.b]);
  }

  private posterior(x: tf.Tensor2D): [tf.Tensor2D, tf.Tensor2D] {
    const h = applyDense(this.dense, this.hidden, x, true);
    return [applyDense(this.dense, [this.mean], h), applyDense(this.dense, [this.logVar], h)];
  }

  loss(x: tf.Tensor2D, target: tf.Tensor2D, training: boolean): LossValue {
    const [mean, logVar] = this.posterior(x);
    let z = mean;
    if (training) {
      const eps = tf.randomNormal(mean.shape, 0, 1, 'float32', deriveSeed(this.spec.seed, 'epsilon', this.draws++));
      z = tf.add(mean, tf.mul(tf.exp(tf.mul(0.5, logVar)), eps));
    }
    const y = this.decode(z);
    let perRow: tf.Tensor1D;
    if (this.spec.reconstruction === 'binary-crossentropy') {
      const p = tf.clipByValue(y, 1e-7, 1 - 1e-7);
      perRow = tf.neg(tf.sum(tf.add(tf.mul(target, tf.log(p)), tf.mul(tf.sub(1, target), tf.log(tf.sub(1, p)))), 1));
    } else {
      perRow = tf.mul(0.5, tf.sum(tf.squaredDifference(y, target), 1));
    }
    const reconstruction = tf.mean(perRow) as tf.Scalar;
    const kl = tf.mean(tf.mul(-0.5, tf.sum(tf.sub(tf.add(1, logVar), tf.add(tf.square(mean), tf.exp(logVar))), 1))) as tf.Scalar;
    return { total: tf.add(reconstruction, tf.mul(this.spec.beta, kl)), terms: { reconstruction, kl } };
  }

  encode(x: tf.Tensor2D): tf.Tensor2D {
    return this.posterior(x)[0];
  }

  decode(z: tf.Tensor2D): tf.Tensor2D {
    return applyDense(this.dense, this.decoder, z);
  }

  reconstruct(x: tf.Tensor2D): tf.Tensor2D {
    return this.decode(this.encode(x));
  }

  exportParts(): Array<[string, readonly DenseVariables[]]> {
    const encoder = [...this.hidden, this.mean];
    return [
      ['autoencoder', [...encoder, ...this.decoder]],
      ['encoder', encoder],
      ['decoder', this.decoder],
    ];
  }

  dispose(): void {
    for (const v of this.variables()) v.dispose();
  }
}
