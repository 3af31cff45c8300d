import * as tf from '@tensorflow/tfjs';
import { heapView } from './heapView.js';

/** Reference rows per matrix product: 5,000 queries × 256 rows of products are 5 MB. */
const REFERENCE_SLICE = 256;

/**
 * The k nearest neighbours of a fixed set of query rows (the test rows), with the reference rows (the training
 * split) streamed past them batch by batch: exact over every reference row, in memory bounded by the queries.
 * Squared distances come from matrix products, ‖q − x‖² = ‖q‖² − 2·q·x + ‖x‖²; ‖q‖² is the same for every x of
 * a query, so the ranking needs only ‖x‖² − 2·q·x. Ties in distance go to the reference row that comes first in
 * the file (its index), so the result does not depend on the order the rows stream in.
 *
 * @example
 * const knn = new StreamingNeighbours(testRows, 5); // testRows: a tf.Tensor2D the caller keeps and disposes
 * for (const batch of training) knn.add(batchTensor, batchLabels, batchIndices);
 * const predicted = knn.vote();
 */
export class StreamingNeighbours {
  readonly rows: number;
  /** Per query, the k best scores so far, ascending (Infinity while fewer were seen). */
  private readonly scores: Float32Array;
  private readonly indices: Int32Array;
  private readonly labels: Int32Array;

  constructor(
    private readonly queries: tf.Tensor2D,
    readonly k: number,
  ) {
    const rows = queries.shape[0];
    this.rows = rows;
    this.scores = new Float32Array(rows * k).fill(Number.POSITIVE_INFINITY);
    this.indices = new Int32Array(rows * k).fill(-1);
    this.labels = new Int32Array(rows * k).fill(-1);
  }

  /** Streams one batch of reference rows (rows × dims) past the queries; `indices` place them in their file. */
  add(x: tf.Tensor2D, labels: Int32Array, indices: Int32Array): void {
    const rows = x.shape[0];
    // A slice of the batch at a time: the products (queries × slice) are the largest thing a worker holds.
    for (let start = 0; start < rows; start += REFERENCE_SLICE) {
      const n = Math.min(REFERENCE_SLICE, rows - start);
      const [xt, norms] = tf.tidy(() => {
        const part = n === rows ? x : tf.slice(x, [start, 0], [n, -1]);
        return [tf.transpose(part), tf.sum(tf.square(part), 1)];
      });
      const products = tf.matMul(this.queries, xt as tf.Tensor2D);
      try {
        const xn = norms.dataSync() as Float32Array;
        this.merge(heapView(products), xn, labels.subarray(start, start + n), indices.subarray(start, start + n));
      } finally {
        tf.dispose([xt, norms, products]);
      }
    }
  }

  /** Merges the products (queries × batch) into every query's best list. */
  private merge(products: Float32Array, xn: Float32Array, labels: Int32Array, indices: Int32Array): void {
    const { k, scores } = this;
    const n = xn.length;
    for (let q = 0; q < this.rows; q++) {
      const base = q * k;
      const row = q * n;
      let worst = scores[base + k - 1];
      for (let j = 0; j < n; j++) {
        const s = xn[j] - 2 * products[row + j];
        if (s < worst || (s === worst && indices[j] < this.indices[base + k - 1])) {
          this.insert(base, s, indices[j], labels[j]);
          worst = scores[base + k - 1];
        }
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
}
