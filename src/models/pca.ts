import { EigenvalueDecomposition, Matrix } from 'ml-matrix';
import { Random } from '../random.js';
import { loadNativeGemm, type NativeGemm } from './nativeMatMul.js';

/**
 * Up to this width, or for at least half of the components, PCA takes the exact eigendecomposition of the
 * covariance (ml-matrix); wider, it finds the leading components by subspace iteration, which needs only
 * matrix products, and on a wide covariance is far faster (`node bench/pca.mjs` compares them).
 */
const EXACT_WIDTH = 256;

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

  /**
   * Fits k components from n rows' sum (d) and sum of outer products (d×d, row-major). `exactWidth`: the widest
   * data decomposed exactly (see EXACT_WIDTH; tests and `bench/pca.mjs` set it to compare the two).
   */
  static fromSums(sum: Float64Array, outer: Float64Array, n: number, k: number, exactWidth = EXACT_WIDTH): Pca {
    const d = sum.length;
    if (n < 2) throw new RangeError('PCA needs at least 2 rows');
    const kept = Math.min(k, d);
    const mean = sum.map((s) => s / n);
    const cov = new Float64Array(d * d);
    for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) cov[i * d + j] = (outer[i * d + j] - n * mean[i] * mean[j]) / (n - 1);
    const { values, vectors } = d <= exactWidth || 2 * kept >= d ? exactEigen(cov, d, kept) : leadingEigen(cov, d, kept);
    // Components as columns: d × kept, row-major.
    const components = new Float64Array(d * kept);
    for (let c = 0; c < kept; c++) for (let i = 0; i < d; i++) components[i * kept + c] = vectors[c * d + i];
    return new Pca(mean, components, d, kept, values);
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

/** The k leading eigenvalues (descending) and eigenvectors (k × d, one per row) of a symmetric d × d matrix. */
interface Eigen {
  values: number[];
  vectors: Float64Array;
}

/** Every eigenpair by ml-matrix's symmetric decomposition, the k largest kept. */
function exactEigen(a: Float64Array, d: number, k: number): Eigen {
  const evd = new EigenvalueDecomposition(new Matrix(Array.from({ length: d }, (_, i) => Array.from(a.subarray(i * d, (i + 1) * d)))), {
    assumeSymmetric: true,
  });
  const order = evd.realEigenvalues.map((v, i) => [v, i] as const).sort((x, y) => y[0] - x[0]);
  const m = evd.eigenvectorMatrix;
  const vectors = new Float64Array(k * d);
  for (let c = 0; c < k; c++) for (let i = 0; i < d; i++) vectors[c * d + i] = m.get(i, order[c][1]);
  return { values: order.slice(0, k).map(([v]) => v), vectors };
}

/** Power iterations of the subspace: enough for the leading eigenvalues' relative error to be far below float32's. */
const ITERATIONS = 12;

/**
 * The k leading eigenpairs by subspace iteration (Rutishauser): a seeded random basis of b = k + max(16, k/2)
 * vectors, multiplied by the matrix and orthonormalized ITERATIONS times, then the Rayleigh–Ritz step (the
 * exact decomposition of the b × b projection). Each iteration improves the error in eigenvalue j by
 * (λ_{b+1}/λ_j)²; the oversampling keeps that ratio small for the k kept. The products run in the native matMul
 * (float32) when it is built, the orthonormalization and the final projection in float64.
 */
function leadingEigen(a: Float64Array, d: number, k: number): Eigen {
  const b = Math.min(d, k + Math.max(16, Math.ceil(k / 2)));
  const random = new Random(0x5eed);
  let q: Float64Array = Float64Array.from({ length: b * d }, () => random.normal());
  orthonormalize(q, b, d, 1);
  const product = matrixProduct(a, d);
  // One Gram–Schmidt pass per iteration keeps the basis well enough conditioned; two at the end make it orthonormal to float64.
  for (let it = 0; it < ITERATIONS; it++) {
    q = product(q, b);
    orthonormalize(q, b, d, it === ITERATIONS - 1 ? 2 : 1);
  }
  // Rayleigh–Ritz in float64: T = Q·A·Qᵀ (b × b), its eigenvectors rotate Q onto A's.
  const aq = exactProduct(q, b, a, d);
  const t = new Float64Array(b * b);
  for (let i = 0; i < b; i++) for (let j = 0; j < b; j++) t[i * b + j] = dot(aq, i * d, q, j * d, d);
  const small = exactEigen(t, b, k);
  const vectors = new Float64Array(k * d);
  for (let c = 0; c < k; c++) {
    for (let i = 0; i < b; i++) {
      const w = small.vectors[c * b + i];
      for (let j = 0; j < d; j++) vectors[c * d + j] += w * q[i * d + j];
    }
  }
  return { values: small.values, vectors };
}

/** rows × d (one vector per row) times the symmetric d × d matrix: the native matMul in float32 if built, else float64. */
function matrixProduct(a: Float64Array, d: number): (q: Float64Array, rows: number) => Float64Array {
  const native = loadNativeGemm().gemm;
  const gemm: NativeGemm | null = native && native.kernel !== 'portable' ? native : null;
  if (!gemm) return (q, rows) => exactProduct(q, rows, a, d);
  const a32 = Float32Array.from(a);
  return (q, rows) => {
    const out = new Float32Array(rows * d);
    gemm.gemm(Float32Array.from(q), a32, out, rows, d, d);
    return Float64Array.from(out);
  };
}

/** rows × d times d × d, in float64. */
function exactProduct(q: Float64Array, rows: number, a: Float64Array, d: number): Float64Array {
  const out = new Float64Array(rows * d);
  for (let r = 0; r < rows; r++) {
    for (let i = 0; i < d; i++) {
      const v = q[r * d + i];
      if (v === 0) continue;
      const row = i * d;
      const o = r * d;
      for (let j = 0; j < d; j++) out[o + j] += v * a[row + j];
    }
  }
  return out;
}

/** Modified Gram–Schmidt over the rows of q (rows × d), `passes` times (twice: orthogonal to float64's precision). */
function orthonormalize(q: Float64Array, rows: number, d: number, passes: number): void {
  for (let pass = 0; pass < passes; pass++) {
    for (let r = 0; r < rows; r++) {
      for (let s = 0; s < r; s++) {
        const p = dot(q, r * d, q, s * d, d);
        for (let j = 0; j < d; j++) q[r * d + j] -= p * q[s * d + j];
      }
      const norm = Math.sqrt(dot(q, r * d, q, r * d, d)) || 1;
      for (let j = 0; j < d; j++) q[r * d + j] /= norm;
    }
  }
}

function dot(x: Float64Array, xo: number, y: Float64Array, yo: number, n: number): number {
  let s = 0;
  for (let i = 0; i < n; i++) s += x[xo + i] * y[yo + i];
  return s;
}
