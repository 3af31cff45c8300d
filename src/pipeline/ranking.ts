/**
 * How well a score ranks anomalies above normal rows, for `aeflow score --anomaly-label` and the one-class
 * benchmark: ROC-AUC (the probability that a random anomaly scores above a random normal row, ties counting
 * half) and PR-AUC as average precision (precision at each anomaly's rank, averaged). Both take every row's
 * score and whether it is an anomaly; they sort once, so memory is the rows' scores.
 */
export function rocAuc(scores: ArrayLike<number>, positive: ArrayLike<boolean>): number {
  const order = ranked(scores);
  let positives = 0;
  let rankSum = 0;
  // Ranks from 1, ties given their average rank (the Mann–Whitney statistic).
  for (let i = 0; i < order.length; ) {
    let j = i;
    while (j + 1 < order.length && scores[order[j + 1]] === scores[order[i]]) j++;
    const rank = (i + j) / 2 + 1;
    for (let t = i; t <= j; t++) {
      if (positive[order[t]]) {
        positives++;
        rankSum += rank;
      }
    }
    i = j + 1;
  }
  const negatives = order.length - positives;
  if (positives === 0 || negatives === 0) return Number.NaN;
  return (rankSum - (positives * (positives + 1)) / 2) / (positives * negatives);
}

/** Average precision: the mean, over the anomalies, of the precision among the rows scoring at least as high. */
export function averagePrecision(scores: ArrayLike<number>, positive: ArrayLike<boolean>): number {
  const order = ranked(scores).reverse();
  let hits = 0;
  let sum = 0;
  let total = 0;
  for (let i = 0; i < order.length; i++) if (positive[order[i]]) total++;
  if (total === 0) return Number.NaN;
  for (let i = 0; i < order.length; ) {
    // A group of tied scores counts as one threshold.
    let j = i;
    while (j + 1 < order.length && scores[order[j + 1]] === scores[order[i]]) j++;
    let groupHits = 0;
    for (let t = i; t <= j; t++) if (positive[order[t]]) groupHits++;
    hits += groupHits;
    sum += (groupHits * hits) / (j + 1);
    i = j + 1;
  }
  return sum / total;
}

/** Row indices by ascending score. */
function ranked(scores: ArrayLike<number>): Int32Array {
  return Int32Array.from({ length: scores.length }, (_, i) => i).sort((a, b) => scores[a] - scores[b]);
}
