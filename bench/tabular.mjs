#!/usr/bin/env node
// The figures of real, non-image CSVs, against their targets: reading .gz against the plain CSV, memory over gzip
// and shard patterns, the shipped tabular example against PCA, and one-class anomaly detection on Fashion-MNIST
// against PCA's reconstruction error. Run by `npm run bench` (section "tabular"), or alone after `npm run build`:
//
//   node bench/tabular.mjs [--quick] [--md FILE]     --quick: 2 epochs, one held-out class; --md: the table's lines
import { spawnSync } from 'node:child_process';
import { createReadStream, createWriteStream, existsSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { createGzip } from 'node:zlib';
import { count, lastValueFrom } from 'rxjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const out = path.join(root, 'bench', 'out', 'tabular');
const { values } = parseArgs({ options: { quick: { type: 'boolean' }, md: { type: 'string' } } });
mkdirSync(out, { recursive: true });
const cli = path.join(root, 'dist', 'cli', 'main.js');
const { csvRows } = await import(path.join(root, 'dist', 'sources', 'csv.js'));
const { rocAuc } = await import(path.join(root, 'dist', 'pipeline', 'ranking.js'));
const read = (file) => JSON.parse(readFileSync(file, 'utf8'));
const verdict = (ok) => (ok ? 'met' : '**missed**');
const log = (line) => console.log(line);
const lines = [];

function aeflow(args) {
  const r = spawnSync(process.execPath, [cli, ...args], { cwd: root, encoding: 'utf8', maxBuffer: 1 << 26 });
  if (r.status !== 0) throw new Error(`aeflow ${args.join(' ')} failed (${r.status}):\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

aeflow(['data', 'fashion-mnist', '--out', 'data', '--if-missing']);
const train = path.join(root, 'data', 'fashion_train.csv');
const test = path.join(root, 'data', 'fashion_test.csv');
const gz = path.join(out, 'fashion_train.csv.gz');
if (!existsSync(gz)) await pipeline(createReadStream(train), createGzip(), createWriteStream(gz));

await ingest();
memory();
movies();
oneClass();
if (values.md) writeFileSync(values.md, lines.join('\n') + '\n');
else log(`\n${lines.join('\n')}`);

/** Rows/s of the reader over the plain CSV and its gzip, alternating, best of three each (the machine drifts). */
async function ingest() {
  const rate = async (file) => {
    const t0 = performance.now();
    const n = await lastValueFrom(csvRows(file, { header: true, labelColumn: 'label' }).pipe(count()));
    return n / ((performance.now() - t0) / 1000);
  };
  const plain = [];
  const gzip = [];
  for (let i = 0; i < 3; i++) {
    plain.push(await rate(train));
    gzip.push(await rate(gz));
  }
  const [p, g] = [Math.max(...plain), Math.max(...gzip)];
  log(`ingest: plain ${Math.round(p)} rows/s, gzip ${Math.round(g)} rows/s (${(g / p).toFixed(2)}x)`);
  lines.push(
    '## Tabular: reading gzip, memory over gzip and shards, a real table, one-class anomaly detection',
    '',
    '| figure | value | target |',
    '| --- | --- | --- |',
    `| reading fashion_train.csv.gz against the plain CSV (rows/s, best of 3) | ${Math.round(g)} / ${Math.round(p)} = ${(g / p).toFixed(2)}x | ≥ 0.6x: ${verdict(g / p >= 0.6)} |`,
  );
}

/** Peak RSS of one training epoch (no cache, no outputs) over the plain CSV, its gzip, and a pattern of 4 shards. */
function memory() {
  const shards = path.join(out, 'shards');
  rmSync(shards, { recursive: true, force: true });
  mkdirSync(shards);
  // Four shards of 60,000 rows each: the training CSV four times over, without copying it.
  for (let i = 1; i <= 4; i++) symlinkSync(train, path.join(shards, `part-${i}.csv`));
  const peak = (file) => {
    const dir = path.join(out, 'memory');
    rmSync(dir, { recursive: true, force: true });
    const settings = ['train.epochs=1', 'cache.enabled=false', 'outputs.save_model=false', 'outputs.report=false', `data.train=${file}`, `data.test=${test}`];
    aeflow(['run', 'pipelines/mnist.yaml', '--out', dir, '--force', ...settings.flatMap((s) => ['--set', s])]);
    const summary = read(path.join(dir, 'summary.json'));
    return { mb: summary.peak_rss_mb, rows: summary.rows };
  };
  const plain = peak(train);
  const gzip = peak(gz);
  const sharded = peak(path.join(shards, '*.csv'));
  log(`memory, one epoch: plain ${plain.mb} MB, gzip ${gzip.mb} MB, 4 shards (${sharded.rows} rows) ${sharded.mb} MB`);
  lines.push(
    `| peak RSS, one epoch: plain / gzip (60,000 rows) | ${plain.mb} / ${gzip.mb} MB | gzip ≤ 1.2x plain: ${verdict(gzip.mb <= 1.2 * plain.mb)} |`,
    `| peak RSS, one epoch: 4 shards (${sharded.rows.toLocaleString('en-US')} rows) | ${sharded.mb} MB | ≤ 1.2x one file: ${verdict(sharded.mb <= 1.2 * plain.mb)} |`,
  );
}

/** pipelines/tabular-anomaly.yaml on the films of vega-datasets: the autoencoder against PCA at its code size. */
function movies() {
  aeflow(['data', 'movies', '--out', 'data', '--if-missing']);
  const dir = path.join(out, 'movies');
  aeflow(['run', 'pipelines/tabular-anomaly.yaml', '--out', dir, '--force']);
  const e = read(path.join(dir, 'evaluation.json'));
  const ratio = e.model_test_loss / e.pca_test_loss;
  log(`movies: autoencoder ${e.model_test_loss.toPrecision(4)}, PCA-${e.pca_components} ${e.pca_test_loss.toPrecision(4)} (${ratio.toFixed(2)}x)`);
  lines.push(
    `| pipelines/tabular-anomaly.yaml (movies): test 0.5·MSE, autoencoder / PCA-${e.pca_components} | ${e.model_test_loss.toPrecision(4)} / ${e.pca_test_loss.toPrecision(4)} = ${ratio.toFixed(2)}x | ≤ 1: ${verdict(ratio <= 1)} |`,
  );
}

/**
 * One-class anomaly detection: pipelines/fashion-quality.yaml trained on the nine other classes, then every test
 * row scored by its reconstruction error (anomalies.csv holds the autoencoder's and PCA's); the held-out class is
 * the anomaly. ROC-AUC of both errors, per class and on average.
 */
function oneClass() {
  const classes = values.quick ? [9] : [0, 1, 2, 3, 4, 5, 6, 7, 8, 9];
  const [header, ...rows] = readFileSync(train, 'utf8').trimEnd().split('\n');
  const table = ['| held-out class | ROC-AUC, autoencoder | ROC-AUC, PCA |', '| --- | --- | --- |'];
  const auc = { model: [], pca: [] };
  for (const c of classes) {
    const normal = path.join(out, `train_without_${c}.csv`);
    writeFileSync(normal, [header, ...rows.filter((l) => Number(l.slice(0, l.indexOf(','))) !== c)].join('\n') + '\n');
    const dir = path.join(out, `one-class-${c}`);
    const settings = [`data.train=${normal}`, `data.test=${test}`, 'evaluate.probes=false', 'cache.enabled=false', ...(values.quick ? ['train.epochs=2'] : [])];
    aeflow(['run', 'pipelines/fashion-quality.yaml', '--out', dir, '--force', ...settings.flatMap((s) => ['--set', s])]);
    const [head, ...scored] = readFileSync(path.join(dir, 'anomalies.csv'), 'utf8').trimEnd().split('\n');
    const at = (name) => head.split(',').indexOf(name);
    const cells = scored.map((l) => l.split(','));
    const positive = cells.map((r) => Number(r[at('label')]) === c);
    const model = rocAuc(
      Float64Array.from(cells, (r) => Number(r[at('model_error')])),
      positive,
    );
    const pca = rocAuc(
      Float64Array.from(cells, (r) => Number(r[at('pca_error')])),
      positive,
    );
    auc.model.push(model);
    auc.pca.push(pca);
    log(`one-class, held-out class ${c}: ROC-AUC autoencoder ${model.toFixed(4)}, PCA ${pca.toFixed(4)}`);
    table.push(`| ${c} | ${model.toFixed(4)} | ${pca.toFixed(4)} |`);
    rmSync(normal);
  }
  const mean = (a) => a.reduce((s, v) => s + v, 0) / a.length;
  const [m, p] = [mean(auc.model), mean(auc.pca)];
  lines.push(
    `| one-class Fashion-MNIST (fashion-quality.yaml, ${classes.length} held-out class${classes.length === 1 ? '' : 'es'}): mean ROC-AUC, autoencoder / PCA | ${m.toFixed(4)} / ${p.toFixed(4)} | autoencoder ≥ PCA: ${verdict(m >= p)} |`,
    '',
    ...table,
    '',
  );
}
