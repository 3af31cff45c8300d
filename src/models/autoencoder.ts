import type * as tf from '@tensorflow/tfjs';
import { applyDense, type DenseFn, type DenseVariables, makeDense } from './dense.js';
import type { DenseAutoencoderSpec } from './layers.js';
import { type LossName, reconstructionLoss } from './losses.js';
import type { LossValue, TrainableModel } from './trainable.js';

/**
 * A dense autoencoder as trainable tfjs variables. In a greedy layer phase (stacked autoencoders), encoder
 * layer k and its mirror decoder layer learn to reconstruct the codes of the frozen layers below; the rest
 * stays untouched.
 */
export class DenseAutoencoder implements TrainableModel {
  readonly encoder: DenseVariables[];
  readonly decoder: DenseVariables[];
  private layer: number | null = null;
  /** A plain autoencoder draws no random numbers while training. */
  draws = 0;

  constructor(
    readonly spec: DenseAutoencoderSpec,
    private readonly dense: DenseFn,
    private readonly lossName: LossName,
  ) {
    this.encoder = spec.encoder.map((l, i) => makeDense(l, spec.init, spec.seed, `encoder-${i}`));
    this.decoder = spec.decoder.map((l, i) => makeDense(l, spec.init, spec.seed, `decoder-${i}`));
  }

  setPhase(layer: number | null): void {
    if (layer !== null && !(layer >= 1 && layer <= this.encoder.length && this.encoder.length === this.decoder.length)) {
      throw new RangeError(`no greedy layer ${layer} in a ${this.encoder.length}-layer encoder / ${this.decoder.length}-layer decoder`);
    }
    this.layer = layer;
  }

  /** The mirror decoder layer of encoder layer k (1-based): the decoder runs the layers in reverse. */
  private mirror(k: number): DenseVariables {
    return this.decoder[this.decoder.length - k];
  }

  trainableVariables(): tf.Variable[] {
    if (this.layer === null) return this.variables();
    const k = this.layer;
    const pair = [this.encoder[k - 1], this.mirror(k)];
    return pair.flatMap((l) => [l.w, l.b]);
  }

  variables(): tf.Variable[] {
    return [...this.encoder, ...this.decoder].flatMap((l) => [l.w, l.b]);
  }

  loss(x: tf.Tensor2D, target: tf.Tensor2D): LossValue {
    if (this.layer === null) {
      const total = reconstructionLoss(this.lossName, this.reconstruct(x), target);
      return { total, terms: {} };
    }
    const below = this.encoder.slice(0, this.layer - 1);
    // The frozen layers' codes of the (possibly noisy) input and of the clean target. They depend on no
    // trainable variable, so backpropagation prunes them.
    const input = applyDense(this.dense, below, x, true);
    const clean = target === x ? input : applyDense(this.dense, below, target, true);
    const code = applyDense(this.dense, [this.encoder[this.layer - 1]], input, true);
    const recon = applyDense(this.dense, [this.mirror(this.layer)], code);
    return { total: reconstructionLoss(this.lossName, recon, clean), terms: {} };
  }

  encode(x: tf.Tensor2D): tf.Tensor2D {
    return applyDense(this.dense, this.encoder, x, true);
  }

  decode(z: tf.Tensor2D): tf.Tensor2D {
    return applyDense(this.dense, this.decoder, z);
  }

  reconstruct(x: tf.Tensor2D): tf.Tensor2D {
    return this.decode(this.encode(x));
  }

  exportParts(): Array<[string, readonly DenseVariables[]]> {
    return [
      ['autoencoder', [...this.encoder, ...this.decoder]],
      ['encoder', this.encoder],
      ['decoder', this.decoder],
    ];
  }

  dispose(): void {
    for (const v of this.variables()) v.dispose();
  }
}
