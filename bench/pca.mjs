#!/usr/bin/env node
// PCA from streamed sums on a real covariance: the exact eigendecomposition (ml-matrix) against the subspace
// iteration aeflow uses for wide data, on the training CSV's rows: seconds, and how well each reconstructs the
// test rows. Run from the repository root after `npm ci` (needs data/fashion_*.csv or data/mnist_*.csv).
//   node bench/pca.mjs [TRAIN.csv] [TEST.csv] [components=100]
import { existsSync } from 'node:fs';
import { lastValueFrom, reduce } from 'rxjs';
import { dataRows } from '../dist/pipeline/dataflow.js';
import { Pca, halfMse } from '../dist/models/pca.js';

const [train, test] = process.argv[2]
  ? process.argv.slice(2, 4)
  : existsSync('data/fashion_train.csv')
    ? ['data/fashion_train.csv', 'data/fashion_test.csv']
    : ['data/mnist_train.csv', 'data/mnist_test.csv'];
const k = Number(process.argv[4] ?? 100);
const source = (file) => ({ file, header: true, labelColumn: 'label', scale: 255, onBadRow: 'error', parser: 'fast', cache: null });
const sums = await lastValueFrom(
  dataRows(source(train)).pipe(
    reduce(
      (acc, row) => {
        const x = row.x;
        const d = x.length;
        acc.sum ??= new Float64Array(d);
        acc.outer ??= new Float64Array(d * d);
        for (let i = 0; i < d; i++) {
          const v = x[i];
          acc.sum[i] += v;
          if (v !== 0) for (let j = 0; j < d; j++) acc.outer[i * d + j] += v * x[j];
        }
        acc.n++;
        return acc;
      },
      { sum: null, outer: null, n: 0 },
    ),
  ),
);
const rows = await lastValueFrom(
  dataRows(source(test)).pipe(
    reduce((all, r) => {
      all.push(r.x.slice());
      return all;
    }, []),
  ),
);
const loss = (pca) => rows.reduce((s, x) => s + halfMse(pca.reconstruct(x), x), 0) / rows.length;
for (const [name, width] of [
  ['exact', Number.POSITIVE_INFINITY],
  ['subspace iteration', 0],
]) {
  const started = performance.now();
  const pca = Pca.fromSums(sums.sum, sums.outer, sums.n, k, width);
  const seconds = (performance.now() - started) / 1000;
  console.log(`${name}: ${seconds.toFixed(2)} s, test loss ${loss(pca).toPrecision(7)}, variance of component ${k}: ${pca.variances[k - 1].toPrecision(7)}`);
}
