import * as tf from '@tensorflow/tfjs-core';
import { AeflowError } from '../errors.js';
import type { LayersModelFiles } from './files.js';
import { activate } from './activate.js';
import { type Activation, activations } from './layers.js';

interface DenseConfig {
  name?: string;
  units?: number;
  activation?: string;
  use_bias?: boolean;
}

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

  /**
   * The stack a saved LayersModel's files describe: its topology (a Sequential of Dense layers) and weights, read
   * without tfjs-layers (which would double an inference worker's start-up time).
   */
  static fromFiles(files: LayersModelFiles, source: string): DenseStack {
    const invalid = (what: string) => new AeflowError('MODEL_INPUT_MISMATCH', `${source}: ${what}`, 'pass a model written by `aeflow run`');
    const topology = files.modelTopology as { class_name?: string; config?: { layers?: Array<{ class_name?: string; config?: DenseConfig }> } };
    const layers = topology?.config?.layers;
    if (topology?.class_name !== 'Sequential' || !Array.isArray(layers) || layers.length === 0) throw invalid('not a Sequential model of Dense layers');
    const weights = weightArrays(files, invalid);
    const stack = layers.map((layer, i) => {
      const config = layer.config ?? {};
      const activation = (config.activation ?? 'linear') as Activation;
      if (layer.class_name !== 'Dense' || !activations.includes(activation)) {
        throw invalid(`layer ${i + 1} is a ${layer.class_name} with activation ${activation}; aeflow reads Dense layers with ${activations.join(', ')}`);
      }
      const kernel = weights.get(`${config.name}/kernel`);
      const bias = config.use_bias === false ? undefined : weights.get(`${config.name}/bias`);
      const fits = kernel?.shape.length === 2 && kernel.shape[1] === config.units && (config.use_bias === false || bias?.values.length === config.units);
      if (!kernel || !fits) {
        throw invalid(`layer ${config.name}: its weights do not match its ${config.units} units`);
      }
      return {
        kernel: tf.tensor2d(kernel.values, [kernel.shape[0], kernel.shape[1]]),
        bias: bias ? tf.tensor1d(bias.values) : null,
        activation,
      };
    });
    for (let i = 1; i < stack.length; i++) {
      if (stack[i].kernel.shape[0] !== stack[i - 1].kernel.shape[1])
        throw invalid(`layer ${i + 1} takes ${stack[i].kernel.shape[0]} inputs, layer ${i} gives ${stack[i - 1].kernel.shape[1]}`);
    }
    return new DenseStack(stack, stack[0].kernel.shape[0], stack[stack.length - 1].kernel.shape[1]);
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

/** The weights in the files, by name: float32 arrays cut from the weight data in the manifest's order. */
function weightArrays(files: LayersModelFiles, invalid: (what: string) => Error): Map<string, { shape: number[]; values: Float32Array }> {
  const out = new Map<string, { shape: number[]; values: Float32Array }>();
  let offset = 0;
  for (const spec of files.weightSpecs as Array<{ name: string; shape: number[]; dtype?: string }>) {
    if ((spec.dtype ?? 'float32') !== 'float32') throw invalid(`weight ${spec.name} is ${spec.dtype}, not float32`);
    const n = spec.shape.reduce((a, b) => a * b, 1);
    if (offset + 4 * n > files.weightData.byteLength) throw invalid(`the weights file is shorter than its manifest says`);
    // A copy: the data's offset need not be 4-byte aligned.
    out.set(spec.name, { shape: spec.shape, values: new Float32Array(files.weightData.slice(offset, offset + 4 * n)) });
    offset += 4 * n;
  }
  return out;
}
