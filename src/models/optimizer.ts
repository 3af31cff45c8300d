/**
 * Adam and SGD over one flat Float32Array of parameters. tfjs's optimizers run a dozen kernels per variable per
 * step; this is one pass over the parameters (`node bench/step.mjs` times it alone). The update
 * follows tf.train.adam: m and v are the usual moments, β1^t and β2^t are kept as running products, and
 * p -= lr·(m / (1 − β1^t)) / (√(v / (1 − β2^t)) + ε), computed in double precision. Adam's pass runs in
 * JavaScript, or in AdamKernel (WebAssembly, same results to the bit) when every array is in the kernel's memory.
 *
 * Weight decay is decoupled, as AdamW (Loshchilov & Hutter) and PyTorch's torch.optim.AdamW: every parameter
 * shrinks by the factor 1 − lr·λ before the gradient's update, p = p·(1 − lr·λ) − update, so the decay does not
 * pass through Adam's moments. With λ = 0 the factor is exactly 1 and the update is the plain one, to the bit.
 */
import type { AdamKernel } from './adamKernel.js';

export interface OptimizerSpec {
  readonly type: 'adam' | 'sgd';
  readonly learning_rate: number;
  readonly beta1: number;
  readonly beta2: number;
  readonly epsilon: number;
  /** Decoupled weight decay λ (0: none); applies to every trained parameter, biases included, as PyTorch's AdamW. */
  readonly weight_decay?: number;
}

/** What the optimizer carries from step to step (Adam: the moments and the running β powers). */
export interface OptimizerState {
  readonly m: Float32Array;
  readonly v: Float32Array;
  readonly powers: readonly [number, number];
}

/**
 * A step's gradient: one array, or the weighted sum of several (data-parallel replicas' gradients, weighted by
 * their share of the batch), summed in the order given, inside the update's own loop.
 */
export type Gradient = Float32Array | { readonly parts: readonly Float32Array[]; readonly weights: readonly number[] };

export class FlatOptimizer {
  private readonly m: Float32Array;
  private readonly v: Float32Array;
  private powers: [number, number] = [1, 1];
  /** Room to sum more than two gradients in. */
  private sum: Float32Array | undefined;
  private readonly kernel: AdamKernel | null;
  /** Where the last Adam step ran (the kernel only runs on arrays in its memory). */
  lastStep: 'kernel' | 'javascript' | null = null;

  /**
   * `memory`: where to keep Adam's moments (`size` floats each; shared memory, when replicas update shares of
   * the parameters); zeroed here. Fresh arrays when left out. With a `kernel` over the memory they are in, steps
   * whose parameters and gradients are in that memory too run in the kernel; `sum` (`size` floats there) is
   * where more than two gradients are summed first, so that the kernel can take the sum.
   */
  constructor(
    readonly spec: OptimizerSpec,
    readonly size: number,
    memory?: { m: Float32Array; v: Float32Array; kernel?: AdamKernel | null; sum?: Float32Array },
  ) {
    const moments = spec.type === 'adam' ? size : 0;
    this.m = memory ? memory.m.subarray(0, moments).fill(0) : new Float32Array(moments);
    this.v = memory ? memory.v.subarray(0, moments).fill(0) : new Float32Array(moments);
    this.kernel = memory?.kernel ?? null;
    this.sum = memory?.sum?.subarray(0, size);
  }

  /**
   * One update of `params` by `grads` (both `size` long) at learning rate `lr` (a schedule's rate for this step;
   * the spec's by default), of the elements from..to only when given (a replica's share; each replica calls this
   * once per step, with its own share).
   */
  step(params: Float32Array, gradient: Gradient, from = 0, to = this.size, lr = this.spec.learning_rate): void {
    const [a, wa, b, wb] = this.terms(gradient, from, to);
    if (params.length !== this.size || a.length !== this.size || b.length !== this.size || !(from >= 0 && from <= to && to <= this.size)) {
      throw new RangeError(`optimizer of ${this.size} parameters given ${params.length} parameters, ${a.length} gradients, range ${from}..${to}`);
    }
    if (!(lr >= 0 && Number.isFinite(lr))) throw new RangeError(`learning rate ${lr}`);
    const decay = 1 - lr * (this.spec.weight_decay ?? 0);
    if (this.spec.type === 'sgd') {
      for (let i = from; i < to; i++) params[i] = params[i] * decay - lr * (wa * a[i] + wb * b[i]);
      return;
    }
    const { beta1, beta2, epsilon } = this.spec;
    this.powers = [this.powers[0] * beta1, this.powers[1] * beta2];
    // lr·(m/c1) / (√(v/c2) + ε) = (lr/c1)·m / (√v·(1/√c2) + ε): one division and one root per parameter
    // (divisions and roots, not the memory, bound this loop).
    const rate = lr / (1 - this.powers[0]);
    const scale = 1 / Math.sqrt(1 - this.powers[1]);
    const { m, v, kernel } = this;
    const c1 = 1 - beta1;
    const c2 = 1 - beta2;
    this.lastStep = 'javascript';
    if (kernel?.covers(params, a, b, m, v)) {
      // The kernel takes the elements in pairs; the loop below does what it leaves.
      from = kernel.step(params, a, b, m, v, from, to, { wa, wb, beta1, c1, beta2, c2, rate, scale, epsilon, decay });
      this.lastStep = 'kernel';
    }
    for (let i = from; i < to; i++) {
      const g = wa * a[i] + wb * b[i];
      const mi = beta1 * m[i] + c1 * g;
      const vi = beta2 * v[i] + c2 * g * g;
      m[i] = mi;
      v[i] = vi;
      params[i] = params[i] * decay - (rate * mi) / (Math.sqrt(vi) * scale + epsilon);
    }
  }

  /** The gradient as g = wa·a + wb·b (b = a with wb = 0 for one array; more than two are summed first). */
  private terms(gradient: Gradient, from: number, to: number): [Float32Array, number, Float32Array, number] {
    if (gradient instanceof Float32Array) return [gradient, 1, gradient, 0];
    const { parts, weights } = gradient;
    if (parts.length !== weights.length || parts.length === 0) throw new RangeError(`${parts.length} gradients with ${weights.length} weights`);
    if (parts.length === 1) return [parts[0], weights[0], parts[0], 0];
    if (parts.length === 2) return [parts[0], weights[0], parts[1], weights[1]];
    this.sum ??= new Float32Array(this.size);
    const sum = this.sum;
    sum.fill(0, from, to);
    for (const [k, part] of parts.entries()) for (let i = from; i < to; i++) sum[i] += weights[k] * part[i];
    return [sum, 1, sum, 0];
  }

  /** A copy of the state (for checkpoints). */
  state(): OptimizerState {
    return { m: this.m.slice(), v: this.v.slice(), powers: [...this.powers] };
  }

  restore(state: OptimizerState): void {
    if (state.m.length !== this.m.length || state.v.length !== this.v.length) {
      throw new RangeError(`optimizer state of ${state.m.length} moments for an optimizer of ${this.m.length}`);
    }
    this.m.set(state.m);
    this.v.set(state.v);
    this.powers = [state.powers[0], state.powers[1]];
  }
}
