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

  const held = (rows: number[][]) => Float32Array.from(rows.flat());

  for (const matMul of ['native', 'tfjs'] as const) {
    it(`finds the same k nearest reference rows as brute force, ties by file order, whatever the batches and their order (${matMul} matMul)`, () => {
      if (matMul === 'tfjs') process.env.AEFLOW_NATIVE_MATMUL = '0';
      const random = new Random(3);
      const queries = integerRows(37, 6, random);
      const reference = integerRows(700, 6, random);
      const expected = bruteForce(queries, reference, 5);
      // Batches of 3 to 300 rows, in shuffled order: the result may not depend on either.
      const order = Array.from({ length: reference.length }, (_, i) => i);
      for (let i = order.length - 1; i > 0; i--) {
        const j = random.int(i + 1);
        [order[i], order[j]] = [order[j], order[i]];
      }
      const knn = new StreamingNeighbours(held(queries), queries.length, 6, 5);
      for (let start = 0, size = 3; start < order.length; start += size, size = Math.min(300, size * 2)) {
        const ids = order.slice(start, start + size);
        knn.add(
          Float32Array.from(ids.flatMap((i) => reference[i])),
          ids.length,
          Int32Array.from(ids, (i) => i % 4),
          Int32Array.from(ids),
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
      knn.dispose();
      delete process.env.AEFLOW_NATIVE_MATMUL;
    });
  }

  it('with fewer reference rows than k, keeps what there is', () => {
    const knn = new StreamingNeighbours(held([[0, 0]]), 1, 2, 5);
    knn.add(Float32Array.from([1, 1, 3, 3]), 2, Int32Array.from([7, 8]), Int32Array.from([0, 1]));
    expect(Array.from(knn.neighbours())).toEqual([0, 1, -1, -1, -1]);
    expect(Array.from(knn.vote())).toEqual([7]);
  });

  it('leaves no tensor behind on either matMul', () => {
    for (const off of [false, true]) {
      if (off) process.env.AEFLOW_NATIVE_MATMUL = '0';
      const before = tf.memory().numTensors;
      const knn = new StreamingNeighbours(held([[0, 1, 2]]), 1, 3, 2);
      for (let i = 0; i < 5; i++) knn.add(Float32Array.from([i, i, i]), 1, Int32Array.from([i]), Int32Array.from([i]));
      // [1,1,1] is nearest; [0,0,0] and [2,2,2] tie for second, the first in the file wins; the 1–1 vote goes to the nearer.
      expect(Array.from(knn.neighbours())).toEqual([1, 0]);
      expect(Array.from(knn.vote())).toEqual([1]);
      knn.dispose();
      expect(tf.memory().numTensors).toBe(before);
      delete process.env.AEFLOW_NATIVE_MATMUL;
    }
  });
});
