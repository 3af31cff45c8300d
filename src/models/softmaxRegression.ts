import * as tf from '@tensorflow/tfjs-core';
import { heapView } from './heapView.js';

export interface SoftmaxRegressionOptions {
  readonly dims: number;
  readonly classes: number;
  /** Standardization of the features: (x − mean) / std, from streamed sums of the training rows. */
  readonly mean: Float32Array;
  readonly std: Float32Array;
  /** The L2 penalty's weight per row: minimizes mean cross-entropy + (l2 / 2)·‖W‖² (the bias is not penalized). */
  readonly l2: number;
  readonly learningRate: number;
  /** The steps training will take: the learning rate decays to 0 along a cosine over them. */
  readonly steps: number;
  /** From this step on, the weights are averaged over the steps (Polyak–Ruppert); the average predicts. */
  readonly averageFrom: number;
}

/**
 * Multinomial logistic regression on standardized features, trained by mini-batch passes over rows that stream
 * by (the linear probe of `aeflow evaluate`). Adam with a cosine-decayed rate and an average of the late
 * iterates: for a convex objective this ends close to its optimum in a few passes, which is what a full-batch
 * solver such as scikit-learn's L-BFGS reaches, without holding the rows.
 *
 * The weights W (dims × classes, of the standardized features z = (x − μ)·s) live in plain arrays. Each step
 * folds the standardization into them, logits = x·(s∘W) + (b − μ·(s∘W)), so the tensors work on the raw rows
 * as they come: two matrix products (x·W′ and gᵀ·x, both plain, on the native matMul) and a softmax, with no
 * transposed or elementwise pass over the rows.
 */
export class SoftmaxRegression {
  private readonly size: number;
  /** W then b, flat: W row-major dims × classes. Adam's moments and the average alike. */
  private readonly params: Float32Array;
  private readonly m: Float32Array;
  private readonly v: Float32Array;
  private readonly average: Float32Array;
  private averaged = 0;
  private t = 0;
  private readonly scale: Float32Array;
  /**
   * Scratch for every step, reused: a new array per step (three of ~31 KB for 784 features) is memory that the
   * worker's allocator holds on to until a collection, and the worker grew over the probes (`bench/run.mjs`,
   * memory section).
   */
  private readonly grad: Float32Array;
  private readonly folded: Float32Array;
  private readonly bias: Float32Array;

  constructor(private readonly options: SoftmaxRegressionOptions) {
    const { dims, classes } = options;
    this.size = dims * classes + classes;
    this.params = new Float32Array(this.size);
    this.m = new Float32Array(this.size);
    this.v = new Float32Array(this.size);
    this.average = new Float32Array(this.size);
    this.scale = Float32Array.from(options.std, (s) => (s > 0 ? 1 / s : 1));
    this.grad = new Float32Array(this.size);
    this.folded = new Float32Array(dims * classes);
    this.bias = new Float32Array(classes);
  }

  get steps(): number {
    return this.t;
  }

  /** One step on a batch of raw features (rows × dims) and their class indices (0..classes−1). */
  step(x: tf.Tensor2D, labels: Int32Array): void {
    this.update(this.gradient(x, labels));
  }

  /** The objective's gradient at the current weights on a batch: W's (dims × classes), then b's (valid until the next step). */
  gradient(x: tf.Tensor2D, labels: Int32Array): Float32Array {
    const { dims, classes } = this.options;
    const rows = x.shape[0];
    const [gx, gsum] = tf.tidy(() => {
      const g = tf.div(tf.sub(this.probabilities(x, this.params), tf.oneHot(tf.tensor1d(labels, 'int32'), classes)), rows);
      return [tf.matMul(tf.transpose(g), x), tf.sum(g, 0)];
    });
    // ∂/∂W[j][c] = s_j·(Σ_r g[r][c]·x[r][j] − μ_j·Σ_r g[r][c]) + l2·W[j][c];  ∂/∂b[c] = Σ_r g[r][c].
    const { mean, l2 } = this.options;
    const { grad } = this;
    try {
      const products = heapView(gx);
      const sums = heapView(gsum);
      for (let j = 0; j < dims; j++) {
        for (let c = 0; c < classes; c++)
          grad[j * classes + c] = this.scale[j] * (products[c * dims + j] - mean[j] * sums[c]) + l2 * this.params[j * classes + c];
      }
      grad.set(sums, dims * classes);
    } finally {
      tf.dispose([gx, gsum]);
    }
    return grad;
  }

  /** Softmax of the logits of raw rows under weights `w` (W then b, of the standardized features). */
  private probabilities(x: tf.Tensor2D, w: Float32Array): tf.Tensor2D {
    const { dims, classes } = this.options;
    const { folded, bias } = this.fold(w);
    return tf.softmax(tf.add(tf.matMul(x, tf.tensor2d(folded, [dims, classes])), tf.tensor1d(bias)));
  }

  /** W′ = s∘W and b′ = b − μ·W′: the weights for raw rows (in scratch arrays, valid until the next call). */
  private fold(w: Float32Array): { folded: Float32Array; bias: Float32Array } {
    const { dims, classes, mean } = this.options;
    const { folded, bias } = this;
    bias.set(w.subarray(dims * classes));
    for (let j = 0; j < dims; j++) {
      for (let c = 0; c < classes; c++) {
        const v = this.scale[j] * w[j * classes + c];
        folded[j * classes + c] = v;
        bias[c] -= mean[j] * v;
      }
    }
    return { folded, bias };
  }

  /** Adam's update with the scheduled rate, then the running average once averaging has begun. */
  private update(grad: Float32Array): void {
    const { learningRate, steps, averageFrom } = this.options;
    this.t++;
    const beta1 = 0.9;
    const beta2 = 0.999;
    const rate = (learningRate * 0.5 * (1 + Math.cos((Math.PI * Math.min(this.t, steps)) / Math.max(1, steps)))) / (1 - beta1 ** this.t);
    const correction2 = 1 - beta2 ** this.t;
    const { params, m, v } = this;
    for (let i = 0; i < this.size; i++) {
      const g = grad[i];
      m[i] = beta1 * m[i] + (1 - beta1) * g;
      v[i] = beta2 * v[i] + (1 - beta2) * g * g;
      params[i] -= (rate * m[i]) / (Math.sqrt(v[i] / correction2) + 1e-8);
    }
    if (this.t >= averageFrom) {
      this.averaged++;
      const w = 1 / this.averaged;
      for (let i = 0; i < this.size; i++) this.average[i] += w * (params[i] - this.average[i]);
    }
  }

  /** The weights that predict: the average when there is one, else the last iterate. */
  weights(): Float32Array {
    return (this.averaged > 0 ? this.average : this.params).slice();
  }

  /** Predicted classes of rows × dims raw features, with `weights` (default: this model's). */
  predict(x: tf.Tensor2D, weights: Float32Array = this.weights()): Int32Array {
    const predicted = tf.tidy(() => tf.argMax(this.probabilities(x, weights), 1));
    const out = Int32Array.from(predicted.dataSync());
    predicted.dispose();
    return out;
  }

  /**
   * Predicted classes of rows × dims raw features in plain memory (the probes' held queries), with `weights`:
   * JavaScript, once per evaluation, so the rows need no room in the WASM heap.
   */
  predictRows(x: Float32Array, rows: number, weights: Float32Array = this.weights()): Int32Array {
    const { dims, classes } = this.options;
    const { folded, bias } = this.fold(weights);
    const logits = new Float64Array(classes);
    const predicted = new Int32Array(rows);
    for (let q = 0; q < rows; q++) {
      logits.set(bias);
      for (let j = 0; j < dims; j++) {
        const v = x[q * dims + j];
        if (v === 0) continue;
        for (let c = 0; c < classes; c++) logits[c] += v * folded[j * classes + c];
      }
      let best = 0;
      for (let c = 1; c < classes; c++) if (logits[c] > logits[best]) best = c;
      predicted[q] = best;
    }
    return predicted;
  }

  /** Nothing held in tensors between steps. */
  dispose(): void {}
}
