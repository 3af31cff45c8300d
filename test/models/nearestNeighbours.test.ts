import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../../src/backend.js';
import { StreamingNeighbours } from '../../src/models/nearestNeighbours.js';
import { Random } from '../../src/random.js';

/** Brute force in float64: every reference row's squared distance to the query, sorted by (distance, index). */
function bruteForce(queries: number[][], reference: number[][], k: number): number[][] {
  return queries.map((q) =>
    reference
      .map((x, index) => ({ index, d: x.reduce((s, v, j) => s + (v - q[j]) ** 2, 0) }))
      .sort((a, b) => a.d - b.d || a.index - b.index)
      .slice(0, k)
      .map((n) => n.index),
  );
}

/** Small whole numbers: their products and sums are exact in float32, so the two sides must agree exactly, ties included. */
function integerRows(n: number, d: number, random: Random): number[][] {
  return Array.from({ length: n }, () => Array.from({ length: d }, () => random.int(7) - 3));
}

describe('StreamingNeighbours', () => {
  beforeAll(async () => {
    await selectBackend('wasm');
  });

  it('finds the same k nearest reference rows as brute force, ties by file order, whatever the batches and their order', () => {
    const random = new Random(3);
    const queries = integerRows(37, 6, random);
    const reference = integerRows(700, 6, random);
    const expected = bruteForce(queries, reference, 5);
    const q = tf.tensor2d(queries);
    // Batches of 3 to 300 rows, in shuffled order: the result may not depend on either.
    const order = Array.from({ length: reference.length }, (_, i) => i);
    for (let i = order.length - 1; i > 0; i--) {
      const j = random.int(i + 1);
      [order[i], order[j]] = [order[j], order[i]];
    }
    const knn = new StreamingNeighbours(q, 5);
    for (let start = 0, size = 3; start < order.length; start += size, size = Math.min(300, size * 2)) {
      const ids = order.slice(start, start + size);
      tf.tidy(() =>
        knn.add(
          tf.tensor2d(ids.map((i) => reference[i])),
          Int32Array.from(ids, (i) => i % 4),
          Int32Array.from(ids),
        ),
      );
    }
    const found = knn.neighbours();
    for (let r = 0; r < queries.length; r++) expect(Array.from(found.subarray(r * 5, r * 5 + 5))).toEqual(expected[r]);
    // The vote: the majority label among the 5, a tie to the label of the nearer member.
    const votes = knn.vote();
    for (let r = 0; r < queries.length; r++) {
      const labels = expected[r].map((i) => i % 4);
      const counts = labels.map((l) => labels.filter((m) => m === l).length);
      const best = Math.max(...counts);
      expect(votes[r]).toBe(labels[counts.indexOf(best)]);
    }
    q.dispose();
  });

  it('with fewer reference rows than k, keeps what there is', () => {
    const q = tf.tensor2d([[0, 0]]);
    const knn = new StreamingNeighbours(q, 5);
    tf.tidy(() =>
      knn.add(
        tf.tensor2d([
          [1, 1],
          [3, 3],
        ]),
        Int32Array.from([7, 8]),
        Int32Array.from([0, 1]),
      ),
    );
    expect(Array.from(knn.neighbours())).toEqual([0, 1, -1, -1, -1]);
    expect(Array.from(knn.vote())).toEqual([7]);
    q.dispose();
  });

  it('leaves no tensor behind', () => {
    const q = tf.tensor2d([[0, 1, 2]]);
    const before = tf.memory().numTensors;
    const knn = new StreamingNeighbours(q, 2);
    for (let i = 0; i < 5; i++) tf.tidy(() => knn.add(tf.tensor2d([[i, i, i]]), Int32Array.from([i]), Int32Array.from([i])));
    knn.vote();
    expect(tf.memory().numTensors).toBe(before);
    q.dispose();
  });
});
