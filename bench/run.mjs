#!/usr/bin/env node
// npm run bench: the reference configuration in aeflow and, when python3 with torch is there, in PyTorch, in one
// sitting on this machine; then CSV ingest and peak memory on a generated 2 GB CSV. Prints the figures and the
// ratios and writes bench/results.md. Run from the repository root after `npm ci`.
//
//   npm run bench                  everything (about 10 minutes on 2 cores)
//   npm run bench -- --quick       2 epochs, a 200 MB CSV for the memory figure
//   npm run bench -- --workers 1   aeflow with one worker (default: auto)
import { spawnSync } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { once } from 'node:events';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { count, lastValueFrom } from 'rxjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const out = path.join(root, 'bench', 'out');
const { values } = parseArgs({ options: { quick: { type: 'boolean' }, workers: { type: 'string', default: 'auto' }, 'big-gb': { type: 'string' } } });
const epochs = values.quick ? 2 : 10;
const bigBytes = Number(values['big-gb'] ?? (values.quick ? 0.2 : 2)) * 1024 ** 3;
mkdirSync(out, { recursive: true });
const cli = path.join(root, 'dist', 'cli', 'main.js');
const { csvRows } = await import(path.join(root, 'dist', 'sources', 'csv.js'));
const { cachedCsvRows, clearCache } = await import(path.join(root, 'dist', 'sources', 'rowCache.js'));

const log = (line) => console.log(line);
const aeflow = (args) => {
  const r = spawnSync(process.execPath, [cli, ...args], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  if (r.status !== 0) throw new Error(`aeflow ${args.join(' ')} failed:\n${r.stdout}`);
  return r.stdout;
};

// 1. Data: Fashion-MNIST when Debian's package is installed, else the bundled digits.
let dataset = 'fashion-mnist';
try {
  aeflow(['data', 'fashion-mnist', '--out', 'data', '--if-missing']);
} catch {
  dataset = 'mnist (bundled digits)';
  aeflow(['data', 'mnist', '--out', 'data', '--if-missing']);
}
const [train, test] = dataset === 'fashion-mnist' ? ['data/fashion_train.csv', 'data/fashion_test.csv'] : ['data/mnist_train.csv', 'data/mnist_test.csv'];
log(`data: ${dataset} (${train}, ${test}); ${epochs} epochs`);

// 2. aeflow, the whole run from a cold cache: reading the CSVs, training, test loss, snapshots, saving.
const cacheDir = path.join(out, 'cache');
await clearCache(cacheDir);
const started = performance.now();
aeflow([
  'run',
  'pipelines/mnist.yaml',
  '--out',
  path.join(out, 'aeflow'),
  '--force',
  '--workers',
  values.workers,
  '--set',
  `data.train=${train}`,
  '--set',
  `data.test=${test}`,
  '--set',
  `train.epochs=${epochs}`,
  '--set',
  `cache.dir=${cacheDir}`,
  // like for like with the PyTorch script: no evaluation or report after training
  '--set',
  'outputs.evaluate=false',
  '--set',
  'outputs.report=false',
]);
const aeflowWall = (performance.now() - started) / 1000;
const summary = JSON.parse(readFileSync(path.join(out, 'aeflow', 'summary.json'), 'utf8'));
log(
  `aeflow: test loss ${summary.test_loss.toFixed(5)}, ${summary.samples_per_s} samples/s (training), ${aeflowWall.toFixed(1)} s wall, peak RSS ${summary.peak_rss_mb} MB, ${summary.backend} x${summary.workers}`,
);

// 3. PyTorch, same configuration, same data, same machine, right after.
let torch = null;
const python = ['/usr/bin/python3', 'python3'].find((p) => spawnSync(p, ['-c', 'import torch, numpy'], { stdio: 'ignore' }).status === 0);
if (python) {
  const t0 = performance.now();
  const r = spawnSync(
    python,
    [path.join(root, 'bench', 'reference.py'), train, test, '--epochs', String(epochs), '--threads', String(os.availableParallelism())],
    { cwd: root, encoding: 'utf8' },
  );
  if (r.status === 0) {
    torch = { ...JSON.parse(r.stdout), process_wall_s: (performance.now() - t0) / 1000 };
    log(
      `pytorch: test loss ${torch.test_loss.toFixed(5)}, ${torch.samples_per_s} samples/s (training), ${torch.process_wall_s.toFixed(1)} s wall, peak RSS ${torch.peak_rss_mb} MB, torch ${torch.torch}`,
    );
  } else {
    log(`pytorch: failed (${r.stderr.trim().split('\n').pop()})`);
  }
} else {
  log('pytorch: not run (no python3 with torch and numpy; on Debian: apt-get install python3-torch libopenblas0-pthread)');
}

// 4. Ingest: the first pass parses the CSV, later passes read the row cache.
const rowsPerS = async (rows$) => {
  const t0 = performance.now();
  const n = await lastValueFrom(rows$.pipe(count()));
  return n / ((performance.now() - t0) / 1000);
};
const csv = { header: true, labelColumn: 'label' };
const ingestCache = path.join(out, 'ingest-cache');
await clearCache(ingestCache);
const ingest = {
  fast: await rowsPerS(csvRows(path.join(root, train), csv)),
  csvParse: await rowsPerS(csvRows(path.join(root, train), { ...csv, parser: 'csv-parse' })),
  firstPassCaching: await rowsPerS(cachedCsvRows(path.join(root, train), csv, { dir: ingestCache, maxBytes: 8e9 })),
  cached: await rowsPerS(cachedCsvRows(path.join(root, train), csv, { dir: ingestCache, maxBytes: 8e9 })),
};
await clearCache(ingestCache);
log(
  `ingest (rows/s): fast reader ${Math.round(ingest.fast)}, csv-parse ${Math.round(ingest.csvParse)}, first pass writing the cache ${Math.round(ingest.firstPassCaching)}, cached ${Math.round(ingest.cached)}`,
);

// 5. Memory: one epoch over the training CSV, then over a generated big CSV (its rows repeated), cache off.
const big = path.join(out, 'big.csv');
if (!existsSync(big) || statSync(big).size < bigBytes) {
  log(`generating ${(bigBytes / 1024 ** 3).toFixed(1)} GB CSV ${path.relative(root, big)} …`);
  const lines = readFileSync(path.join(root, train), 'utf8').split('\n');
  const header = lines[0];
  const body =
    lines
      .slice(1)
      .filter((l) => l.length > 0)
      .join('\n') + '\n';
  const stream = createWriteStream(big);
  stream.write(header + '\n');
  for (let written = 0; written < bigBytes; written += body.length) if (!stream.write(body)) await once(stream, 'drain');
  stream.end();
  await once(stream, 'close');
}
const oneEpoch = (file, name, workers) => {
  aeflow([
    'run',
    'pipelines/mnist.yaml',
    '--out',
    path.join(out, name),
    '--force',
    '--workers',
    workers,
    '--set',
    `data.train=${file}`,
    '--set',
    `data.test=${test}`,
    '--set',
    'train.epochs=1',
    '--set',
    'cache.enabled=false',
    '--set',
    'outputs.save_model=false',
    '--set',
    'outputs.report=false',
  ]);
  return JSON.parse(readFileSync(path.join(out, name, 'summary.json'), 'utf8'));
};
// With the workers of the run above, and with one (each worker holds its own copy of TensorFlow.js and of the model).
const memory = [...new Set([values.workers, '1'])].map((workers) => {
  const small = oneEpoch(path.join(root, train), 'memory-small', workers);
  const large = oneEpoch(big, 'memory-big', workers);
  log(
    `memory, one epoch, workers ${workers} (${large.workers}): ${small.peak_rss_mb} MB peak on ${path.basename(train)} (${(statSync(path.join(root, train)).size / 1024 ** 2).toFixed(0)} MB), ${large.peak_rss_mb} MB on ${(statSync(big).size / 1024 ** 3).toFixed(2)} GB (${large.rows} rows, ${large.samples_per_s} samples/s)`,
  );
  return { workers: large.workers, small, large };
});

// 6. Ratios and results.md.
const ratio = (a, b) => (a / b).toFixed(2);
const lines = [
  '# aeflow benchmark',
  '',
  `Measured ${new Date().toISOString()} by \`npm run bench${values.quick ? ' -- --quick' : ''}\`.`,
  '',
  `- machine: ${os.cpus()[0]?.model ?? 'unknown CPU'}, ${os.availableParallelism()} cores, ${(os.totalmem() / 1024 ** 3).toFixed(0)} GB, ${os.type()} ${os.release()}`,
  `- node ${process.version}, TensorFlow.js ${JSON.parse(readFileSync(path.join(root, 'node_modules/@tensorflow/tfjs/package.json'), 'utf8')).version}, backend ${summary.backend}, ${summary.workers} worker(s)`,
  `- ${torch ? `PyTorch ${torch.torch} (${python}), ${torch.threads} threads` : 'PyTorch: not run'}`,
  `- data: ${dataset}, ${summary.rows} training rows, ${summary.test_rows} test rows; the reference configuration (pipelines/mnist.yaml), ${epochs} epochs`,
  '',
  '| | aeflow | PyTorch | aeflow / PyTorch |',
  '| --- | --- | --- | --- |',
  `| test loss after ${epochs} epochs | ${summary.test_loss.toFixed(5)} | ${torch ? torch.test_loss.toFixed(5) : '-'} | ${torch ? ratio(summary.test_loss, torch.test_loss) : '-'} |`,
  `| training throughput (samples/s) | ${summary.samples_per_s} | ${torch ? torch.samples_per_s : '-'} | ${torch ? ratio(summary.samples_per_s, torch.samples_per_s) : '-'} |`,
  `| whole run, wall (s) | ${aeflowWall.toFixed(1)} | ${torch ? torch.process_wall_s.toFixed(1) : '-'} | ${torch ? ratio(aeflowWall, torch.process_wall_s) : '-'} |`,
  `| peak RSS (MB) | ${summary.peak_rss_mb} | ${torch ? torch.peak_rss_mb : '-'} | |`,
  '',
  '| CSV ingest, 785 columns | rows/s |',
  '| --- | --- |',
  `| fast reader, first pass | ${Math.round(ingest.fast)} |`,
  `| csv-parse alone | ${Math.round(ingest.csvParse)} |`,
  `| first pass writing the row cache | ${Math.round(ingest.firstPassCaching)} |`,
  `| later passes, from the row cache | ${Math.round(ingest.cached)} |`,
  '',
  '| memory, one epoch (cache off) | CSV size | peak RSS (MB) |',
  '| --- | --- | --- |',
  ...memory.flatMap(({ workers, small, large }) => [
    `| ${path.basename(train)}, ${workers} worker(s) | ${(statSync(path.join(root, train)).size / 1024 ** 2).toFixed(0)} MB | ${small.peak_rss_mb} |`,
    `| generated big.csv, ${workers} worker(s) | ${(statSync(big).size / 1024 ** 3).toFixed(2)} GB | ${large.peak_rss_mb} (${ratio(large.peak_rss_mb, small.peak_rss_mb)}x) |`,
  ]),
  '',
];
writeFileSync(path.join(root, 'bench', 'results.md'), lines.join('\n'));
log(`\n${lines.slice(9).join('\n')}\nwrote bench/results.md`);
rmSync(path.join(out, 'memory-big'), { recursive: true, force: true });
