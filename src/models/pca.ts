import { EigenvalueDecomposition, Matrix } from 'ml-matrix';

/**
 * Principal component analysis fitted from streamed sums: Σx and Σxxᵀ accumulated batch by batch (in float64),
 * so the data never has to be held. The baseline an autoencoder with the same code size should beat.
 */
export class Pca {
  private constructor(
    readonly mean: Float64Array,
    /** d×k, column j the j-th principal direction (largest variance first), row-major. */
    readonly components: Float64Array,
    readonly dims: number,
    readonly k: number,
    /** Variance along each kept direction. */
    readonly variances: number[],
  ) {}

  /** Fits k components from n rows' sum (d) and sum of outer products (d×d, row-major). */
  static fromSums(sum: Float64Array, outer: Float64Array, n: number, k: number): Pca {
    const d = sum.length;
    if (n < 2) throw new RangeError('PCA needs at least 2 rows');
    const kept = Math.min(k, d);
    const mean = sum.map((s) => s / n);
    const cov = new Matrix(d, d);
    for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) cov.set(i, j, (outer[i * d + j] - n * mean[i] * mean[j]) / (n - 1));
    const evd = new EigenvalueDecomposition(cov, { assumeSymmetric: true });
    const values = evd.realEigenvalues;
    const vectors = evd.eigenvectorMatrix;
    const order = values.map((v, i) => [v, i] as const).sort((a, b) => b[0] - a[0]);
    const components = new Float64Array(d * kept);
    for (let c = 0; c < kept; c++) {
      const col = order[c][1];
      for (let i = 0; i < d; i++) components[i * kept + c] = vectors.get(i, col);
    }
    return new Pca(
      mean,
      components,
      d,
      kept,
      order.slice(0, kept).map(([v]) => v),
    );
  }

  /** The k-dimensional code of a row. */
  project(x: ArrayLike<number>): Float64Array {
    const { dims: d, k, mean, components } = this;
    const z = new Float64Array(k);
    for (let i = 0; i < d; i++) {
      const centred = x[i] - mean[i];
      if (centred === 0) continue;
      const row = i * k;
      for (let c = 0; c < k; c++) z[c] += centred * components[row + c];
    }
    return z;
  }

  /** The row rebuilt from its code: mean + W·z. */
  reconstruct(x: ArrayLike<number>): Float64Array {
    const { dims: d, k, mean, components } = this;
    const z = this.project(x);
    const y = new Float64Array(d);
    for (let i = 0; i < d; i++) {
      let v = mean[i];
      const row = i * k;
      for (let c = 0; c < k; c++) v += components[row + c] * z[c];
      y[i] = v;
    }
    return y;
  }
}

/** 0.5 · mean squared difference of one row: the reference loss, per row. */
export function halfMse(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) {
    const d = a[i] - b[i];
    s += d * d;
  }
  return (0.5 * s) / a.length;
}
