import * as tf from '@tensorflow/tfjs-core';
import { deriveSeed } from '../../random.js';
import { applyDense, type DenseKernel, type DenseVariables, fromLayout, makeDense, toLayout, variablesOf } from '../dense.js';
import type { VariationalAutoencoderSpec } from '../layers.js';
import type { LossValue, TrainableModel } from './trainable.js';

/**
 * A variational autoencoder (Kingma & Welling 2014): the encoder gives a mean and a log-variance per latent
 * dimension, z = mean + exp(logvar / 2)·ε with ε ~ N(0, I) (the reparameterisation trick), and the loss per row
 * is reconstruction + β·KL(q(z|x) ‖ N(0, I)), averaged over the batch: the negative ELBO when β = 1.
 * Reconstruction sums over features: binary cross-entropy, or half the squared error for `mse`.
 * Without training (evaluation) z is the mean. Inside, tensors are in the kernel's layout: sums "per row" run
 * along its feature axis.
 */
export class VariationalAutoencoder implements TrainableModel {
  readonly hidden: DenseVariables[];
  readonly mean: DenseVariables;
  readonly logVar: DenseVariables;
  readonly decoder: DenseVariables[];
  draws = 0;

  constructor(
    readonly spec: VariationalAutoencoderSpec,
    private readonly kernel: DenseKernel,
  ) {
    this.hidden = spec.encoder.map((l, i) => makeDense(l, spec.init, spec.seed, `encoder-${i}`, kernel.layout));
    const width = spec.encoder.length > 0 ? spec.encoder[spec.encoder.length - 1].units : spec.decoder[spec.decoder.length - 1].units;
    this.mean = makeDense({ inputs: width, units: spec.latent, activation: 'linear' }, spec.init, spec.seed, 'mean', kernel.layout);
    this.logVar = makeDense({ inputs: width, units: spec.latent, activation: 'linear' }, spec.init, spec.seed, 'logvar', kernel.layout);
    this.decoder = spec.decoder.map((l, i) => makeDense(l, spec.init, spec.seed, `decoder-${i}`, kernel.layout));
  }

  setPhase(layer: number | null): void {
    if (layer !== null) throw new RangeError('a variational autoencoder trains as a whole (no greedy layer phases)');
  }

  trainableLayers(): readonly DenseVariables[] {
    return this.layers();
  }

  layers(): readonly DenseVariables[] {
    return [...this.hidden, this.mean, this.logVar, ...this.decoder];
  }

  /** The posterior's mean and log-variance, in the kernel's layout, of x in the kernel's layout. */
  private posterior(x: tf.Tensor2D): [tf.Tensor2D, tf.Tensor2D] {
    const h = applyDense(this.kernel, this.hidden, x, true);
    return [applyDense(this.kernel, [this.mean], h), applyDense(this.kernel, [this.logVar], h)];
  }

  loss(rows: tf.Tensor2D, targetRows: tf.Tensor2D, training: boolean): LossValue {
    const x = toLayout(this.kernel, rows);
    const target = targetRows === rows ? x : toLayout(this.kernel, targetRows);
    const features = this.kernel.layout === 'rows' ? 1 : 0;
    const [mean, logVar] = this.posterior(x);
    let z = mean;
    if (training) {
      // Drawn batch × latent whatever the layout, so both layouts sample the same numbers.
      const seed = deriveSeed(this.spec.seed, 'epsilon', this.draws++);
      const eps = toLayout(this.kernel, tf.randomNormal([rows.shape[0], this.spec.latent], 0, 1, 'float32', seed));
      z = tf.add(mean, tf.mul(tf.exp(tf.mul(0.5, logVar)), eps));
    }
    const y = applyDense(this.kernel, this.decoder, z);
    let perRow: tf.Tensor1D;
    if (this.spec.reconstruction === 'binary-crossentropy') {
      const p = tf.clipByValue(y, 1e-7, 1 - 1e-7);
      perRow = tf.neg(tf.sum(tf.add(tf.mul(target, tf.log(p)), tf.mul(tf.sub(1, target), tf.log(tf.sub(1, p)))), features));
    } else {
      perRow = tf.mul(0.5, tf.sum(tf.squaredDifference(y, target), features));
    }
    const reconstruction = tf.mean(perRow) as tf.Scalar;
    const kl = tf.mean(tf.mul(-0.5, tf.sum(tf.sub(tf.add(1, logVar), tf.add(tf.square(mean), tf.exp(logVar))), features))) as tf.Scalar;
    return { total: tf.add(reconstruction, tf.mul(this.spec.beta, kl)), terms: { reconstruction, kl } };
  }

  encode(x: tf.Tensor2D): tf.Tensor2D {
    return fromLayout(this.kernel, this.posterior(toLayout(this.kernel, x))[0]);
  }

  decode(z: tf.Tensor2D): tf.Tensor2D {
    return fromLayout(this.kernel, applyDense(this.kernel, this.decoder, toLayout(this.kernel, z)));
  }

  reconstruct(x: tf.Tensor2D): tf.Tensor2D {
    const code = this.posterior(toLayout(this.kernel, x))[0];
    return fromLayout(this.kernel, applyDense(this.kernel, this.decoder, code));
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
    for (const v of variablesOf(this.layers())) v.dispose();
  }
}
