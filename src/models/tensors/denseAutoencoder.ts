import type * as tf from '@tensorflow/tfjs-core';
import { applyDense, type DenseKernel, type DenseVariables, fromLayout, makeDense, toLayout, variablesOf } from '../dense.js';
import type { DenseAutoencoderSpec } from '../layers.js';
import { type LossName, reconstructionLoss } from '../losses.js';
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
    private readonly kernel: DenseKernel,
    private readonly lossName: LossName,
  ) {
    this.encoder = spec.encoder.map((l, i) => makeDense(l, spec.init, spec.seed, `encoder-${i}`, kernel.layout));
    this.decoder = spec.decoder.map((l, i) => makeDense(l, spec.init, spec.seed, `decoder-${i}`, kernel.layout));
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

  trainableLayers(): readonly DenseVariables[] {
    if (this.layer === null) return this.layers();
    return [this.encoder[this.layer - 1], this.mirror(this.layer)];
  }

  layers(): readonly DenseVariables[] {
    return [...this.encoder, ...this.decoder];
  }

  loss(rows: tf.Tensor2D, targetRows: tf.Tensor2D): LossValue {
    // The losses are means over every element: the same in either layout.
    const x = toLayout(this.kernel, rows);
    const target = targetRows === rows ? x : toLayout(this.kernel, targetRows);
    if (this.layer === null) {
      const total = reconstructionLoss(this.lossName, applyDense(this.kernel, this.decoder, applyDense(this.kernel, this.encoder, x, true)), target);
      return { total, terms: {} };
    }
    const below = this.encoder.slice(0, this.layer - 1);
    // The frozen layers' codes of the (possibly noisy) input and of the clean target. They depend on no
    // trainable variable, so backpropagation prunes them.
    const input = applyDense(this.kernel, below, x, true);
    const clean = target === x ? input : applyDense(this.kernel, below, target, true);
    const code = applyDense(this.kernel, [this.encoder[this.layer - 1]], input, true);
    const recon = applyDense(this.kernel, [this.mirror(this.layer)], code);
    return { total: reconstructionLoss(this.lossName, recon, clean), terms: {} };
  }

  encode(x: tf.Tensor2D): tf.Tensor2D {
    return fromLayout(this.kernel, applyDense(this.kernel, this.encoder, toLayout(this.kernel, x), true));
  }

  decode(z: tf.Tensor2D): tf.Tensor2D {
    return fromLayout(this.kernel, applyDense(this.kernel, this.decoder, toLayout(this.kernel, z)));
  }

  reconstruct(x: tf.Tensor2D): tf.Tensor2D {
    const code = applyDense(this.kernel, this.encoder, toLayout(this.kernel, x), true);
    return fromLayout(this.kernel, applyDense(this.kernel, this.decoder, code));
  }

  exportParts(): Array<[string, readonly DenseVariables[]]> {
    return [
      ['autoencoder', [...this.encoder, ...this.decoder]],
      ['encoder', this.encoder],
      ['decoder', this.decoder],
    ];
  }

  dispose(): void {
    for (const v of variablesOf(this.layers())) v.dispose();
  }
}
