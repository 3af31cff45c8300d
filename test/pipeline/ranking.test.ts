import { describe, expect, it } from 'vitest';
import { averagePrecision, rocAuc } from '../../src/pipeline/ranking.js';
import { Random } from '../../src/random.js';

/** ROC-AUC by its definition: over every (anomaly, normal) pair, 1 when the anomaly scores higher, ½ on a tie. */
function pairwise(scores: number[], positive: boolean[]): number {
  let wins = 0;
  let pairs = 0;
  scores.forEach((a, i) => {
    if (!positive[i]) return;
    scores.forEach((b, j) => {
      if (positive[j]) return;
      pairs++;
      wins += a > b ? 1 : a === b ? 0.5 : 0;
    });
  });
  return wins / pairs;
}

describe('ranking metrics', () => {
  it('ROC-AUC equals the pairwise definition, ties included; 1 for a perfect ranking, 0.5 for a constant score', () => {
    const random = new Random(1);
    const scores = Array.from({ length: 300 }, () => Math.round(random.normal() * 4) / 4);
    const positive = scores.map((s) => random.next() < 0.2 + 0.1 * s);
    expect(rocAuc(scores, positive)).toBeCloseTo(pairwise(scores, positive), 12);
    expect(rocAuc([1, 2, 3, 4], [false, false, true, true])).toBe(1);
    expect(rocAuc([5, 5, 5, 5], [false, true, false, true])).toBe(0.5);
    expect(rocAuc([1, 2], [false, false])).toBeNaN();
  });

  it('average precision: 1 for a perfect ranking, the positive rate for a constant score, by hand otherwise', () => {
    expect(averagePrecision([1, 2, 3, 4], [false, false, true, true])).toBe(1);
    expect(averagePrecision([5, 5, 5, 5], [false, true, false, true])).toBe(0.5);
    // ranked: 0.9 (yes), 0.8 (no), 0.7 (yes): precision 1 at the first, 2/3 at the third
    expect(averagePrecision([0.7, 0.8, 0.9], [true, false, true])).toBeCloseTo((1 + 2 / 3) / 2, 12);
  });
});
