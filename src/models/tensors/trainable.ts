import type * as tf from '@tensorflow/tfjs-core';
import type { DenseVariables } from '../dense.js';

/** A loss and its named parts (a VAE's reconstruction and KL terms), as scalars. */
export interface LossValue {
  readonly total: tf.Scalar;
  readonly terms: Readonly<Record<string, tf.Scalar>>;
}

/** What the worker trains: any model type implements this. Owns its variables; `dispose()` frees them. */
export interface TrainableModel {
  /** The layers the current phase trains (all of them unless a greedy layer phase froze some). */
  trainableLayers(): readonly DenseVariables[];
  /** Every layer, in a fixed order (for weights and checkpoints). */
  layers(): readonly DenseVariables[];
  /** Switches to a training phase: `layer` k trains only layer k (and its mirror), null the whole model. */
  setPhase(layer: number | null): void;
  /**
   * The current phase's objective on a batch; `training` turns on sampling where the model samples. Tensors in and
   * out of these methods are batch × features, whatever layout the model computes in.
   */
  loss(x: tf.Tensor2D, target: tf.Tensor2D, training: boolean): LossValue;
  reconstruct(x: tf.Tensor2D): tf.Tensor2D;
  /** The code of each row (a VAE's posterior mean). */
  encode(x: tf.Tensor2D): tf.Tensor2D;
  decode(z: tf.Tensor2D): tf.Tensor2D;
  /** The parts saved as tfjs LayersModels: name -> dense layers in order. */
  exportParts(): Array<[string, readonly DenseVariables[]]>;
  /** How many random draws the model has made (a VAE samples); restored on resume. */
  draws: number;
  dispose(): void;
}
