import * as tf from '@tensorflow/tfjs-core';
import { heapView } from './heapView.js';
import { loadNativeGemm, type NativeGemm } from './nativeMatMul.js';

/** Reference rows per matrix product: 256 rows × 5,000 queries of products are 5 MB. */
const REFERENCE_SLICE = 256;

/**
 * The k nearest neighbours of a fixed set of query rows (the test rows), with the reference rows (the training
 * split) streamed past them batch by batch: exact over every reference row, in memory bounded by the queries.
 * Squared distances come from matrix products, ‖q − x‖² = ‖q‖² − 2·q·x + ‖x‖²; ‖q‖² is the same for every x of
 * a query, so the ranking needs only ‖x‖² − 2·q·x. Ties in distance go to the reference row that comes first in
 * the file (its index), so the result does not depend on the order the rows stream in.
 *
 * The queries stay where the caller holds them (the evaluation's shared memory: no copy), and aeflow's native
 * matMul multiplies them with each transposed slice of reference rows in place; they take no room in the WASM
 * heap, which never shrinks and grows by copying itself. Without the native matMul, tfjs multiplies.
 *
 * @example
 * const knn = new StreamingNeighbours(queries, 10_000, 784, 5);
 * for (const batch of training) knn.add(batch.x, batch.rows, batchLabels, batchIndices);
 * const predicted = knn.vote();
 */
export class StreamingNeighbours {
  /** Per query, the k best scores so far, ascending (Infinity while fewer were seen). */
  private readonly scores: Float32Array;
  private readonly indices: Int32Array;
  private readonly labels: Int32Array;
  private readonly gemm: NativeGemm | null;
  /** The products of one slice (queries × reference rows), and the slice transposed, reused. */
  private readonly products: Float32Array;
  private readonly sliceT: Float32Array;
  private readonly norms = new Float32Array(REFERENCE_SLICE);
  /** The queries as a tensor, for tfjs's matMul when there is no native one. */
  private queriesTensor: tf.Tensor2D | null = null;

  constructor(
    /** rows × dims, row-major. */
    private readonly queries: Float32Array,
    readonly rows: number,
    readonly dims: number,
    readonly k: number,
  ) {
    this.scores = new Float32Array(rows * k).fill(Number.POSITIVE_INFINITY);
    this.indices = new Int32Array(rows * k).fill(-1);
    this.labels = new Int32Array(rows * k).fill(-1);
    // The portable kernel is no faster than tfjs's WASM matMul (see useNativeMatMul).
    const native = loadNativeGemm().gemm;
    this.gemm = native && native.kernel !== 'portable' ? native : null;
    this.products = new Float32Array(this.gemm ? REFERENCE_SLICE * rows : 0);
    this.sliceT = new Float32Array(this.gemm ? REFERENCE_SLICE * dims : 0);
  }

  /** Streams `n` reference rows (n × dims, row-major) past the queries; `indices` place them in their file. */
  add(x: Float32Array, n: number, labels: Int32Array, indices: Int32Array): void {
    const { dims } = this;
    for (let start = 0; start < n; start += REFERENCE_SLICE) {
      const count = Math.min(REFERENCE_SLICE, n - start);
      const slice = x.subarray(start * dims, (start + count) * dims);
      for (let j = 0; j < count; j++) {
        let s = 0;
        for (let i = j * dims; i < (j + 1) * dims; i++) s += slice[i] * slice[i];
        this.norms[j] = s;
      }
      this.multiply(slice, count, (products) => this.merge(products, count, labels.subarray(start), indices.subarray(start)));
    }
  }

  /** Hands `merge` the products of the queries with `count` reference rows (rows × count). */
  private multiply(slice: Float32Array, count: number, merge: (products: Float32Array) => void): void {
    const { dims, rows } = this;
    if (this.gemm) {
      const t = this.sliceT;
      for (let j = 0; j < count; j++) for (let i = 0; i < dims; i++) t[i * count + j] = slice[j * dims + i];
      this.gemm.gemm(this.queries.subarray(0, rows * dims), t, this.products, rows, dims, count);
      merge(this.products);
      return;
    }
    this.queriesTensor ??= tf.tensor2d(this.queries.subarray(0, rows * dims), [rows, dims]);
    const queries = this.queriesTensor;
    const products = tf.tidy(() => tf.matMul(queries, tf.transpose(tf.tensor2d(slice, [count, dims]))));
    try {
      merge(heapView(products));
    } finally {
      products.dispose();
    }
  }

  /** Merges the products (queries × reference rows) into every query's best list. */
  private merge(products: Float32Array, count: number, labels: Int32Array, indices: Int32Array): void {
    const { k, scores, norms } = this;
    for (let q = 0; q < this.rows; q++) {
      const row = q * count;
      const last = q * k + k - 1;
      for (let j = 0; j < count; j++) {
        const s = norms[j] - 2 * products[row + j];
        if (s < scores[last] || (s === scores[last] && indices[j] < this.indices[last])) this.insert(q * k, s, indices[j], labels[j]);
      }
    }
  }

  /** Puts a neighbour into a query's sorted list (by score, then file index), dropping the last. */
  private insert(base: number, score: number, index: number, label: number): void {
    const { scores, indices, labels } = this;
    let at = base + this.k - 1;
    while (at > base && (scores[at - 1] > score || (scores[at - 1] === score && indices[at - 1] > index))) {
      scores[at] = scores[at - 1];
      indices[at] = indices[at - 1];
      labels[at] = labels[at - 1];
      at--;
    }
    scores[at] = score;
    indices[at] = index;
    labels[at] = label;
  }

  /** Each query's neighbours' file indices, nearest first (-1 where fewer than k reference rows were seen). */
  neighbours(): Int32Array {
    return this.indices.slice();
  }

  /**
   * Each query's predicted label: the majority among its k neighbours; a tie goes to the label whose member is
   * nearest.
   */
  vote(): Int32Array {
    const { k, rows, labels } = this;
    const predicted = new Int32Array(rows);
    const votes = new Map<number, number>();
    for (let q = 0; q < rows; q++) {
      votes.clear();
      let best = -1;
      let bestVotes = 0;
      for (let j = 0; j < k; j++) {
        const label = labels[q * k + j];
        if (label < 0) continue;
        votes.set(label, (votes.get(label) ?? 0) + 1);
      }
      // Nearest first: a later label must have strictly more votes to win.
      for (let j = 0; j < k; j++) {
        const label = labels[q * k + j];
        const v = votes.get(label) ?? 0;
        if (label >= 0 && v > bestVotes) {
          best = label;
          bestVotes = v;
        }
      }
      predicted[q] = best;
    }
    return predicted;
  }

  dispose(): void {
    this.queriesTensor?.dispose();
    this.queriesTensor = null;
  }
}
