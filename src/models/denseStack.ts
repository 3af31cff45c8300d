import * as tf from '@tensorflow/tfjs';
import { AeflowError } from '../errors.js';
import { type Activation, activations } from './layers.js';

interface StackLayer {
  readonly kernel: tf.Tensor2D;
  readonly bias: tf.Tensor1D | null;
  readonly activation: Activation;
}

/**
 * A saved model (a Sequential of Dense layers, as `aeflow run` writes them) for inference: each layer is x·W + b
 * and its activation, as plain matMuls. tfjs's own Dense layer runs a fused matMul, which the native matMul does
 * not take over (it replaces only the plain BatchMatMul kernel); this stack runs the same arithmetic through it.
 * The caller disposes it.
 */
export class DenseStack {
  private constructor(
    private readonly layers: readonly StackLayer[],
    readonly inputs: number,
    readonly outputs: number,
  ) {}

  /** Copies the weights of a loaded LayersModel; the LayersModel itself can be disposed afterwards. */
  static fromLayersModel(model: tf.LayersModel, source: string): DenseStack {
    const layers = model.layers.map((layer) => {
      const config = layer.getConfig() as { activation?: string; useBias?: boolean; units?: number };
      const activation = (config.activation ?? 'linear') as Activation;
      const weights = layer.getWeights();
      if (layer.getClassName() !== 'Dense' || !activations.includes(activation) || weights.length < 1 || weights[0].rank !== 2) {
        throw new AeflowError(
          'MODEL_INPUT_MISMATCH',
          `${source}: layer "${layer.name}" is a ${layer.getClassName()} with activation ${activation}; aeflow reads Dense layers with ${activations.join(', ')}`,
          'pass a model written by `aeflow run`',
        );
      }
      return {
        kernel: tf.clone(weights[0]) as tf.Tensor2D,
        bias: weights[1] ? (tf.clone(weights[1]) as tf.Tensor1D) : null,
        activation,
      };
    });
    if (layers.length === 0) throw new AeflowError('MODEL_INPUT_MISMATCH', `${source}: the model has no layers`, 'pass a model written by `aeflow run`');
    return new DenseStack(layers, layers[0].kernel.shape[0], layers[layers.length - 1].kernel.shape[1]);
  }

  /** The stack's output for rows × inputs. */
  apply(x: tf.Tensor2D): tf.Tensor2D {
    return tf.tidy(() => {
      let y: tf.Tensor2D = x;
      for (const layer of this.layers) {
        const z = tf.matMul(y, layer.kernel) as tf.Tensor2D;
        y = activate(layer.bias ? (tf.add(z, layer.bias) as tf.Tensor2D) : z, layer.activation);
      }
      return y;
    });
  }

  dispose(): void {
    for (const layer of this.layers) tf.dispose([layer.kernel, ...(layer.bias ? [layer.bias] : [])]);
  }
}

function activate(x: tf.Tensor2D, activation: Activation): tf.Tensor2D {
  switch (activation) {
    case 'sigmoid':
      return tf.sigmoid(x);
    case 'relu':
      return tf.relu(x);
    case 'tanh':
      return tf.tanh(x);
    case 'elu':
      return tf.elu(x);
    case 'linear':
      return x;
  }
}
