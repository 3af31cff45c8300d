import * as tf from '@tensorflow/tfjs';
import { activate, type DenseFn } from './dense.js';
import { initDense } from './init.js';
import type { DenseAutoencoderSpec, DenseLayerSpec } from './layers.js';

export interface DenseVariables {
  readonly spec: DenseLayerSpec;
  readonly w: tf.Variable<tf.Rank.R2>;
  readonly b: tf.Variable<tf.Rank.R1>;
}

/** A trainable variable from a tensor, which is then disposed. */
function variable<R extends tf.Rank>(initial: tf.Tensor<R>): tf.Variable<R> {
  const v = tf.variable(initial, true);
  initial.dispose();
  return v;
}

/** A dense autoencoder as trainable tfjs variables. Owns its variables: `dispose()` frees them. */
export class DenseAutoencoder {
  readonly encoder: DenseVariables[];
  readonly decoder: DenseVariables[];

  constructor(
    readonly spec: DenseAutoencoderSpec,
    private readonly dense: DenseFn,
  ) {
    const make = (layers: readonly DenseLayerSpec[], part: string) =>
      layers.map((layer, i) => {
        const { w, b } = initDense(layer, spec.init, spec.seed, `${part}-${i}`);
        return { spec: layer, w: variable(tf.tensor2d(w, [layer.inputs, layer.units])), b: variable(tf.tensor1d(b)) };
      });
    this.encoder = make(spec.encoder, 'encoder');
    this.decoder = make(spec.decoder, 'decoder');
  }

  private run(layers: readonly DenseVariables[], x: tf.Tensor2D): tf.Tensor2D {
    let h = x;
    for (const l of layers) h = activate(this.dense(h, l.w, l.b), l.spec.activation);
    return h;
  }

  encode(x: tf.Tensor2D): tf.Tensor2D {
    return this.run(this.encoder, x);
  }

  decode(z: tf.Tensor2D): tf.Tensor2D {
    return this.run(this.decoder, z);
  }

  reconstruct(x: tf.Tensor2D): tf.Tensor2D {
    return this.decode(this.encode(x));
  }

  variables(): tf.Variable[] {
    return [...this.encoder, ...this.decoder].flatMap((l) => [l.w, l.b]);
  }

  dispose(): void {
    for (const v of this.variables()) v.dispose();
  }
}
