import * as tf from '@tensorflow/tfjs';

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
 * solver such as scikit-learn's L-BFGS reaches, without holding the rows. Tensors are made and disposed per step;
 * the weights live in plain arrays.
 */
export class SoftmaxRegression {
  private readonly size: number;
  /** Weights (dims × classes) then biases (classes), flat; Adam's moments and the average alike. */
  private readonly params: Float32Array;
  private readonly m: Float32Array;
  private readonly v: Float32Array;
  private readonly average: Float32Array;
  private averaged = 0;
  private t = 0;
  private readonly shift: tf.Tensor1D;
  private readonly scale: tf.Tensor1D;

  constructor(private readonly options: SoftmaxRegressionOptions) {
    const { dims, classes } = options;
    this.size = dims * classes + classes;
    this.params = new Float32Array(this.size);
    this.m = new Float32Array(this.size);
    this.v = new Float32Array(this.size);
    this.average = new Float32Array(this.size);
    this.shift = tf.tensor1d(options.mean);
    this.scale = tf.tensor1d(Float32Array.from(options.std, (s) => (s > 0 ? 1 / s : 1)));
  }

  get steps(): number {
    return this.t;
  }

  /** One step on a batch of raw features (rows × dims) and their class indices (0..classes−1). */
  step(x: tf.Tensor2D, labels: Int32Array): void {
    const { dims, classes, l2 } = this.options;
    const rows = x.shape[0];
    const weights = this.params.subarray(0, dims * classes);
    const gradient = tf.tidy(() => {
      const z = this.standardize(x);
      const p = tf.softmax(tf.add(tf.matMul(z, tf.tensor2d(weights, [dims, classes])), tf.tensor1d(this.params.subarray(dims * classes))));
      const g = tf.div(tf.sub(p, tf.oneHot(tf.tensor1d(labels, 'int32'), classes)), rows) as tf.Tensor2D;
      // zᵀ explicitly: a transposed matMul would not run in the native kernel.
      return tf.concat([tf.reshape(tf.matMul(tf.transpose(z), g), [-1]), tf.sum(g, 0)]);
    });
    const grad = gradient.dataSync() as Float32Array;
    gradient.dispose();
    for (let i = 0; i < dims * classes; i++) grad[i] += l2 * weights[i];
    this.update(grad);
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
    const { dims, classes } = this.options;
    const predicted = tf.tidy(() =>
      tf.argMax(
        tf.add(
          tf.matMul(this.standardize(x), tf.tensor2d(weights.subarray(0, dims * classes), [dims, classes])),
          tf.tensor1d(weights.subarray(dims * classes)),
        ),
        1,
      ),
    );
    const out = Int32Array.from(predicted.dataSync());
    predicted.dispose();
    return out;
  }

  private standardize(x: tf.Tensor2D): tf.Tensor2D {
    return tf.mul(tf.sub(x, this.shift), this.scale);
  }

  dispose(): void {
    tf.dispose([this.shift, this.scale]);
  }
}
