/** Plain descriptions of models, shared by the main thread (config) and the worker (tensors). No tfjs here. */

export const activations = ['sigmoid', 'relu', 'tanh', 'elu', 'linear'] as const;
export type Activation = (typeof activations)[number];

/**
 * How dense weights start. `torch` is PyTorch's nn.Linear default (weights and biases uniform in
 * ±1/sqrt(fan_in)), what the reference PyTorch script used; `glorot-uniform` is Keras's default (zero biases);
 * `he-uniform` suits relu.
 */
export const initializers = ['torch', 'glorot-uniform', 'he-uniform'] as const;
export type Initializer = (typeof initializers)[number];

export interface DenseLayerSpec {
  readonly inputs: number;
  readonly units: number;
  readonly activation: Activation;
}

export interface DenseAutoencoderSpec {
  readonly type: 'dense-autoencoder';
  readonly encoder: readonly DenseLayerSpec[];
  readonly decoder: readonly DenseLayerSpec[];
  readonly init: Initializer;
  readonly seed: number;
}

/**
 * A VAE: `encoder` hidden layers, then two heads from the last hidden width to the latent size (mean and
 * log-variance), then `decoder` from the latent size back to the input.
 */
export interface VariationalAutoencoderSpec {
  readonly type: 'variational-autoencoder';
  readonly encoder: readonly DenseLayerSpec[];
  readonly latent: number;
  readonly decoder: readonly DenseLayerSpec[];
  readonly reconstruction: 'binary-crossentropy' | 'mse';
  readonly beta: number;
  readonly init: Initializer;
  readonly seed: number;
}

export type ModelSpec = DenseAutoencoderSpec | VariationalAutoencoderSpec;

/** Sizes [a, b, c] with one activation for all layers but the last -> layer specs a->b, b->c. */
export function denseStack(sizes: readonly number[], activation: Activation, last: Activation): DenseLayerSpec[] {
  const layers: DenseLayerSpec[] = [];
  for (let i = 0; i + 1 < sizes.length; i++) {
    layers.push({ inputs: sizes[i], units: sizes[i + 1], activation: i + 2 === sizes.length ? last : activation });
  }
  return layers;
}

/** Trainable parameters of a model spec (weights and biases of every dense layer, a VAE's two heads included). */
export function parameterCount(spec: ModelSpec): number {
  const dense = (layers: readonly DenseLayerSpec[]) => layers.reduce((n, l) => n + l.inputs * l.units + l.units, 0);
  let n = dense(spec.encoder) + dense(spec.decoder);
  if (spec.type === 'variational-autoencoder') {
    const width = spec.encoder.length > 0 ? spec.encoder[spec.encoder.length - 1].units : spec.decoder[spec.decoder.length - 1].units;
    n += 2 * (width * spec.latent + spec.latent);
  }
  return n;
}

export type { Phase } from '../types.js';
