#!/usr/bin/env node
// npm run bench: aeflow against the tools people would otherwise use, in one sitting on this machine, with the
// targets each figure is held to. Prints the figures and writes bench/results.md. Run from the repository root
// after `npm ci`, with nothing else running (a second busy process makes either side read 30% low).
//
//   npm run bench                          every section (about 15 minutes on 2 cores)
//   npm run bench -- --quick               2 epochs, a 200 MB CSV, scikit-learn left out
//   npm run bench -- --only training,encode   some sections: training, evaluation, memory, encode, serve, redis, start, tabular
//   npm run bench -- --workers 1           aeflow with one worker (default: auto)
//   npm run bench -- --quality             the quality section alone (with --quick: 3 epochs, and PyTorch gets aeflow's wall)
//
// Sections:
//   training    the reference configuration without evaluation, then the PyTorch script (bench/reference.py)
//   evaluation  the default run (evaluation on), then scikit-learn doing the same evaluation (bench/sklearn_eval.py)
//   memory      peak RSS, one epoch: the default run over a generated 2 GB CSV; without evaluation and cache too
//   encode      `aeflow encode` over the training CSV, then pandas + PyTorch (bench/encode_reference.py)
//   serve       `aeflow serve` under autocannon: 1-row and 256-row requests, 1 and 2 workers; against aeflow encode
//   redis       `aeflow score` reading a Redis stream (a redis-server of its own): 1, 2 and 3 consumer processes
//   start       what `npm start` does: build, the bundled digits, the reference run with its evaluation
//   tabular     bench/tabular.mjs: gzip and shards, the shipped table against PCA, one-class anomaly detection
//   quality     pipelines/fashion-30d.yaml from a cold cache, then bench/quality_reference.py (PyTorch) for the same
//               3 minutes, each side's test loss at the mark (not in the default list: `--quality` or `--only quality`)
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { createWriteStream, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { count, lastValueFrom } from 'rxjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const out = path.join(root, 'bench', 'out');
const { values } = parseArgs({
  options: {
    quick: { type: 'boolean' },
    quality: { type: 'boolean' },
    workers: { type: 'string', default: 'auto' },
    'big-gb': { type: 'string' },
    only: { type: 'string' },
  },
});
const sections = new Set((values.only ?? (values.quality ? 'quality' : 'training,evaluation,memory,encode,serve,redis,start,tabular')).split(','));
const epochs = values.quick ? 2 : 10;
const bigBytes = Number(values['big-gb'] ?? (values.quick ? 0.2 : 2)) * 1024 ** 3;
mkdirSync(out, { recursive: true });
const cli = path.join(root, 'dist', 'cli', 'main.js');
const { csvRows } = await import(path.join(root, 'dist', 'sources', 'csv.js'));
const { cachedCsvRows, clearCache } = await import(path.join(root, 'dist', 'sources', 'rowCache.js'));
const log = (line) => console.log(line);
const read = (file) => JSON.parse(readFileSync(file, 'utf8'));
const ratio = (a, b) => (a / b).toFixed(2);
const verdict = (ok) => (ok ? 'met' : '**missed**');
const report = [];

/** Runs a command to the end; returns its stdout and its wall time. */
function timed(command, args, options = {}) {
  const started = performance.now();
  const r = spawnSync(command, args, { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 1 << 26, ...options });
  const seconds = (performance.now() - started) / 1000;
  if (r.status !== 0) throw new Error(`${command} ${args.join(' ')} failed (${r.status}):\n${r.stdout}\n${r.stderr}`);
  return { stdout: r.stdout, seconds };
}
const aeflow = (args, options) => timed(process.execPath, [cli, ...args], options);
const python = ['/usr/bin/python3', 'python3'].find((p) => spawnSync(p, ['-c', 'import numpy, pandas'], { stdio: 'ignore' }).status === 0);
const pythonHas = (module) => Boolean(python) && spawnSync(python, ['-c', `import ${module}`], { stdio: 'ignore' }).status === 0;

// Data: Fashion-MNIST when Debian's package is installed, else the bundled digits.
let dataset = 'fashion-mnist';
try {
  aeflow(['data', 'fashion-mnist', '--out', 'data', '--if-missing']);
} catch {
  dataset = 'mnist (bundled digits)';
  aeflow(['data', 'mnist', '--out', 'data', '--if-missing']);
}
const [train, test] = dataset === 'fashion-mnist' ? ['data/fashion_train.csv', 'data/fashion_test.csv'] : ['data/mnist_train.csv', 'data/mnist_test.csv'];
log(`data: ${dataset} (${train}, ${test}); ${epochs} epochs`);
const cacheDir = path.join(out, 'cache');
const referenceRun = (name, extra) => [
  'run',
  'pipelines/mnist.yaml',
  '--out',
  path.join(out, name),
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
  ...extra.flatMap((s) => ['--set', s]),
];

let training = null;
if (sections.has('training')) training = await trainingSection();
if (sections.has('evaluation')) await evaluationSection();
if (sections.has('memory')) await memorySection();
if (sections.has('encode')) await encodeSection();
if (sections.has('serve')) await serveSection();
if (sections.has('redis')) await redisSection();
if (sections.has('start')) startSection();
if (sections.has('tabular')) tabularSection();
if (sections.has('quality')) qualitySection();

const header = [
  '# aeflow benchmark',
  '',
  `Measured ${new Date().toISOString()} by \`npm run bench${process.argv.slice(2).length ? ` -- ${process.argv.slice(2).join(' ')}` : ''}\`.`,
  '',
  `- machine: ${os.cpus()[0]?.model ?? 'unknown CPU'}, ${os.availableParallelism()} cores, ${(os.totalmem() / 1024 ** 3).toFixed(0)} GB, ${os.type()} ${os.release()}`,
  `- node ${process.version}, TensorFlow.js ${read(path.join(root, 'node_modules/@tensorflow/tfjs/package.json')).version}; python ${python ?? 'none'}`,
  `- data: ${dataset}; the reference configuration (pipelines/mnist.yaml), ${epochs} epochs, workers ${values.workers}`,
  '',
];
writeFileSync(path.join(root, 'bench', 'results.md'), [...header, ...report].join('\n') + '\n');
log(`\n${report.join('\n')}\nwrote bench/results.md`);
rmSync(path.join(out, 'memory-big'), { recursive: true, force: true });

/** The reference configuration from a cold cache without evaluation, then PyTorch on the same data. */
async function trainingSection() {
  await clearCache(cacheDir);
  const run = aeflow(referenceRun('aeflow', ['outputs.evaluate=false', 'outputs.report=false']));
  const summary = read(path.join(out, 'aeflow', 'summary.json'));
  log(
    `aeflow, evaluation off: test loss ${summary.test_loss.toFixed(5)}, ${summary.samples_per_s} samples/s, ${run.seconds.toFixed(1)} s wall, peak ${summary.peak_rss_mb} MB`,
  );
  let torch = null;
  if (pythonHas('torch')) {
    const r = timed(python, [
      path.join(root, 'bench', 'reference.py'),
      train,
      test,
      '--epochs',
      String(epochs),
      '--threads',
      String(os.availableParallelism()),
    ]);
    torch = { ...JSON.parse(r.stdout), process_wall_s: r.seconds };
    log(`pytorch: test loss ${torch.test_loss.toFixed(5)}, ${torch.samples_per_s} samples/s, ${r.seconds.toFixed(1)} s wall, peak ${torch.peak_rss_mb} MB`);
  } else {
    log('pytorch: not run (no python3 with torch; on Debian: apt-get install python3-torch libopenblas0-pthread)');
  }
  const ingest = await ingestFigures();
  report.push(
    '## Training: aeflow against PyTorch (evaluation off on both sides)',
    '',
    '| | aeflow | PyTorch | aeflow / PyTorch | target |',
    '| --- | --- | --- | --- | --- |',
    `| test loss after ${epochs} epochs | ${summary.test_loss.toFixed(5)} | ${torch ? torch.test_loss.toFixed(5) : '-'} | ${torch ? ratio(summary.test_loss, torch.test_loss) : '-'} | |`,
    `| training throughput (samples/s) | ${summary.samples_per_s} | ${torch?.samples_per_s ?? '-'} | ${torch ? ratio(summary.samples_per_s, torch.samples_per_s) : '-'} | ≥ 1.5: ${torch ? verdict(summary.samples_per_s / torch.samples_per_s >= 1.5) : '-'} |`,
    `| whole run, wall (s) | ${run.seconds.toFixed(1)} | ${torch ? torch.process_wall_s.toFixed(1) : '-'} | ${torch ? ratio(run.seconds, torch.process_wall_s) : '-'} | ≤ 0.75: ${torch ? verdict(run.seconds / torch.process_wall_s <= 0.75) : '-'} |`,
    `| peak RSS (MB) | ${summary.peak_rss_mb} | ${torch?.peak_rss_mb ?? '-'} | | |`,
    '',
    '| CSV ingest, 785 columns | rows/s |',
    '| --- | --- |',
    `| fast reader, first pass | ${Math.round(ingest.fast)} |`,
    `| csv-parse alone | ${Math.round(ingest.csvParse)} |`,
    `| first pass writing the row cache | ${Math.round(ingest.firstPassCaching)} |`,
    `| later passes, from the row cache | ${Math.round(ingest.cached)} |`,
    '',
  );
  return { summary, run, torch };
}

async function ingestFigures() {
  const rowsPerS = async (rows$) => {
    const t0 = performance.now();
    const n = await lastValueFrom(rows$.pipe(count()));
    return n / ((performance.now() - t0) / 1000);
  };
  const csv = { header: true, labelColumn: 'label' };
  const dir = path.join(out, 'ingest-cache');
  await clearCache(dir);
  const figures = {
    fast: await rowsPerS(csvRows(path.join(root, train), csv)),
    csvParse: await rowsPerS(csvRows(path.join(root, train), { ...csv, parser: 'csv-parse' })),
    firstPassCaching: await rowsPerS(cachedCsvRows(path.join(root, train), csv, { dir, maxBytes: 8e9 })),
    cached: await rowsPerS(cachedCsvRows(path.join(root, train), csv, { dir, maxBytes: 8e9 })),
  };
  await clearCache(dir);
  log(
    `ingest (rows/s): fast ${Math.round(figures.fast)}, csv-parse ${Math.round(figures.csvParse)}, writing the cache ${Math.round(figures.firstPassCaching)}, cached ${Math.round(figures.cached)}`,
  );
  return figures;
}

/** The default run (evaluation on) from a cold cache, then scikit-learn evaluating the same model. */
async function evaluationSection() {
  await clearCache(cacheDir);
  const run = aeflow(referenceRun('evaluated', []));
  const summary = read(path.join(out, 'evaluated', 'summary.json'));
  const e = read(path.join(out, 'evaluated', 'evaluation.json'));
  // wall_s is the whole run; runs before to_saved_model_s existed measured only up to the saved model there.
  const trained = summary.to_saved_model_s ?? summary.wall_s;
  log(
    `aeflow, evaluation on: ${run.seconds.toFixed(1)} s wall (${trained} s to the saved model, evaluation ${e.seconds.total} s), peak ${e.peak_rss_mb} MB; ` +
      `probes logistic / 5-NN: raw ${e.probes.raw.logistic} / ${e.probes.raw.knn}, PCA ${e.probes.pca.logistic} / ${e.probes.pca.knn}, codes ${e.probes.model.logistic} / ${e.probes.model.knn}`,
  );
  let sk = null;
  if (!values.quick && pythonHas('sklearn')) {
    const r = timed(python, [
      path.join(root, 'bench', 'sklearn_eval.py'),
      train,
      test,
      '--model',
      path.join(out, 'evaluated', 'model'),
      '--threads',
      String(os.availableParallelism()),
    ]);
    sk = JSON.parse(r.stdout);
    log(`scikit-learn: ${sk.wall_s.toFixed(1)} s (from reading the CSVs), peak ${sk.peak_rss_mb} MB`);
  } else if (!values.quick) {
    log('scikit-learn: not run (no python3 with sklearn and pandas; on Debian: apt-get install python3-sklearn python3-pandas)');
  }
  const torch = training?.torch ?? null;
  const points = (a, b) => `${((a - b) * 100).toFixed(2)}`;
  const within = (a, b) => Math.abs(a - b) <= 0.005;
  report.push(
    '## Evaluation: the default run, and scikit-learn doing the same work on the full splits',
    '',
    '| | figure | target |',
    '| --- | --- | --- |',
    `| default run (evaluation on), wall | ${run.seconds.toFixed(1)} s${torch ? ` = ${ratio(run.seconds, torch.process_wall_s)} x PyTorch's ${torch.process_wall_s.toFixed(1)} s` : ''} | ≤ 0.75 x PyTorch: ${torch ? verdict(run.seconds / torch.process_wall_s <= 0.75) : '-'} |`,
    `| evaluation / training in the same run | ${e.seconds.total} s / ${trained} s = ${ratio(e.seconds.total, trained)} | ≤ 1.0: ${verdict(e.seconds.total <= trained)} |`,
    `| evaluation / scikit-learn | ${sk ? `${e.seconds.total} s / ${sk.wall_s.toFixed(1)} s = ${ratio(e.seconds.total, sk.wall_s)}` : '-'} | ≤ 0.3: ${sk ? verdict(e.seconds.total / sk.wall_s <= 0.3) : '-'} |`,
    `| peak RSS, evaluation on / off (same run, 10 epochs) | ${e.peak_rss_mb} MB${training ? ` / ${training.summary.peak_rss_mb} MB = ${ratio(e.peak_rss_mb, training.summary.peak_rss_mb)}` : ''} | ≤ 1.2: ${training ? verdict(e.peak_rss_mb <= 1.2 * training.summary.peak_rss_mb) : '-'} |`,
    `| test loss, model / PCA-${e.pca_components} | ${e.model_test_loss.toFixed(5)} / ${e.pca_test_loss.toFixed(5)}${sk ? ` (scikit-learn ${sk.model_test_loss.toFixed(5)} / ${sk.pca_test_loss.toFixed(5)})` : ''} | |`,
    '',
    '| probe accuracy | aeflow logistic | scikit-learn | points | aeflow 5-NN | scikit-learn | points |',
    '| --- | --- | --- | --- | --- | --- | --- |',
    ...['raw', 'pca', 'model'].map((set) => {
      const a = e.probes[set];
      const b = sk?.probes[set];
      return `| ${set} | ${a.logistic.toFixed(4)} | ${b ? b.logistic.toFixed(4) : '-'} | ${b ? points(a.logistic, b.logistic) : '-'} | ${a.knn.toFixed(4)} | ${b ? b.knn.toFixed(4) : '-'} | ${b ? points(a.knn, b.knn) : '-'} |`;
    }),
    sk
      ? `\nProbe accuracies within 0.5 points of scikit-learn's: ${verdict(['raw', 'pca', 'model'].every((s) => within(e.probes[s].logistic, sk.probes[s].logistic) && within(e.probes[s].knn, sk.probes[s].knn)))}. scikit-learn's logistic regression: lbfgs, C = 1, at most ${sk.probes.raw.logistic_iterations} iterations (converged: raw ${sk.probes.raw.logistic_converged}, PCA ${sk.probes.pca.logistic_converged}, codes ${sk.probes.model.logistic_converged}); its phases (s): ${Object.entries(
          sk.phases_s,
        )
          .map(([k, v]) => `${k} ${v}`)
          .join(', ')}.`
      : '',
    `aeflow's evaluation phases (s): training pass ${e.seconds.training_pass}, test pass ${e.seconds.test_pass}, probes ${e.seconds.probes} (${e.probes.passes} passes).`,
    '',
  );
  return { run, summary, e, sk };
}

/** Peak memory of one epoch over the training CSV and over a generated big CSV (its rows repeated). */
async function memorySection() {
  const big = path.join(out, 'big.csv');
  if (!existsSync(big) || statSync(big).size < bigBytes) {
    log(`generating ${(bigBytes / 1024 ** 3).toFixed(1)} GB CSV ${path.relative(root, big)} …`);
    const lines = readFileSync(path.join(root, train), 'utf8').split('\n');
    const body =
      lines
        .slice(1)
        .filter((l) => l.length > 0)
        .join('\n') + '\n';
    const stream = createWriteStream(big);
    stream.write(lines[0] + '\n');
    for (let written = 0; written < bigBytes; written += body.length) if (!stream.write(body)) await once(stream, 'drain');
    stream.end();
    await once(stream, 'close');
  }
  const bigCache = path.join(out, 'big-cache');
  const oneEpoch = (file, name, workers, extra) => {
    // A fresh folder: a stale evaluation.json from an earlier run there would be read as this one's.
    rmSync(path.join(out, name), { recursive: true, force: true });
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
      ...extra.flatMap((s) => ['--set', s]),
    ]);
    const dir = path.join(out, name);
    const summary = read(path.join(dir, 'summary.json'));
    const evaluated = existsSync(path.join(dir, 'evaluation.json')) ? read(path.join(dir, 'evaluation.json')) : null;
    return { summary, peak: evaluated?.peak_rss_mb ?? summary.peak_rss_mb, evaluated };
  };
  // The default run: evaluation on, the row cache on (in a folder of its own, removed after).
  await clearCache(bigCache);
  const bigDefault = oneEpoch(big, 'memory-big', values.workers, [`cache.dir=${bigCache}`]);
  await clearCache(bigCache);
  const gb = (statSync(big).size / 1024 ** 3).toFixed(2);
  log(
    `memory, default run (evaluation on), one epoch over ${gb} GB (${bigDefault.summary.rows} rows): peak ${bigDefault.peak} MB; evaluation ${bigDefault.evaluated?.seconds.total} s`,
  );
  const rows = [
    `| default run (evaluation and cache on), big.csv ${gb} GB, ${bigDefault.summary.workers} worker(s) | ${bigDefault.peak} | ≤ 450: ${verdict(bigDefault.peak <= 450)} |`,
  ];
  // Training alone (evaluation and cache off), with the run's workers and with one.
  for (const workers of [...new Set([values.workers, '1'])]) {
    const small = oneEpoch(path.join(root, train), 'memory-small', workers, ['cache.enabled=false', 'outputs.save_model=false', 'outputs.report=false']);
    const large = oneEpoch(big, 'memory-big', workers, ['cache.enabled=false', 'outputs.save_model=false', 'outputs.report=false']);
    log(
      `memory, training only, workers ${workers}: ${small.peak} MB on ${path.basename(train)}, ${large.peak} MB on ${gb} GB (${large.summary.samples_per_s} samples/s)`,
    );
    rows.push(
      `| training only, ${path.basename(train)}, ${large.summary.workers} worker(s) | ${small.peak} | |`,
      `| training only, big.csv ${gb} GB, ${large.summary.workers} worker(s) | ${large.peak} (${ratio(large.peak, small.peak)}x) | ≤ 400 and ≤ 1.2x |`,
    );
  }
  report.push('## Memory: peak RSS, one epoch', '', '| run | peak RSS (MB) | target |', '| --- | --- | --- |', ...rows, '');
}

/** The reference model an earlier section trained, trained now when none did (with its evaluation: score needs its threshold). */
function referenceModel() {
  const model = path.join(out, 'evaluated', 'model');
  if (!existsSync(path.join(model, '..', 'evaluation.json'))) aeflow(referenceRun('evaluated', []));
  return model;
}

/** `aeflow encode` over the training CSV from the file (no row cache), then pandas + PyTorch doing the same. */
async function encodeSection() {
  const model = referenceModel();
  // From a working folder of its own: no row cache of the file can be there, so encode reads the CSV itself.
  const cwd = mkdtempSync(path.join(os.tmpdir(), 'aeflow-bench-'));
  const input = path.join(root, train);
  const rows = read(path.join(out, 'evaluated', 'summary.json')).rows;
  const a = aeflow(['encode', '--model', model, '--input', input, '--out', path.join(cwd, 'codes.csv'), '--workers', values.workers], { cwd });
  const aeflowRate = rows / a.seconds;
  log(`aeflow encode: ${rows} rows in ${a.seconds.toFixed(2)} s = ${Math.round(aeflowRate)} rows/s (file to file, the process's whole wall time)`);
  let torch = null;
  if (pythonHas('torch')) {
    const r = timed(python, [
      path.join(root, 'bench', 'encode_reference.py'),
      input,
      '--model',
      model,
      '--out',
      path.join(cwd, 'ref.csv'),
      '--threads',
      String(os.availableParallelism()),
    ]);
    torch = { ...JSON.parse(r.stdout), process_wall_s: r.seconds };
    log(
      `pandas + PyTorch: ${torch.rows} rows in ${r.seconds.toFixed(2)} s = ${Math.round(torch.rows / r.seconds)} rows/s (process wall; the script's own: ${torch.rows_per_s})`,
    );
  }
  rmSync(cwd, { recursive: true, force: true });
  const torchRate = torch ? torch.rows / torch.process_wall_s : null;
  report.push(
    '## Encode: the training CSV to a CSV of codes (whole process, file to file)',
    '',
    '| | rows/s | target |',
    '| --- | --- | --- |',
    `| aeflow encode | ${Math.round(aeflowRate)} | ≥ 30,000: ${verdict(aeflowRate >= 30_000)} |`,
    `| pandas + PyTorch (bench/encode_reference.py) | ${torchRate ? Math.round(torchRate) : '-'} | aeflow ≥ 3x: ${torchRate ? `${ratio(aeflowRate, torchRate)}x, ${verdict(aeflowRate >= 3 * torchRate)}` : '-'} |`,
    '',
  );
}

/** A CLI process in the background, once it printed `ready` (a regular expression); its exit as a promise. */
async function background(args, ready) {
  const child = spawn(process.execPath, [cli, ...args], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
  let text = '';
  const exited = once(child, 'exit');
  const match = await new Promise((resolve, reject) => {
    const look = (chunk) => {
      text += chunk;
      const m = ready?.exec(text);
      if (m) resolve(m);
    };
    child.stdout.setEncoding('utf8').on('data', look);
    child.stderr.setEncoding('utf8').on('data', look);
    if (!ready) resolve(null);
    exited.then(([code]) => reject(new Error(`${args.join(' ')} exited (${code}):\n${text}`)));
  });
  return { child, match, exited, output: () => text };
}

/** `aeflow encode` over the training CSV, rows/s: of the whole process, and net of its start (a 1-row file's time). */
function encodeRate(model, workers) {
  const cwd = mkdtempSync(path.join(os.tmpdir(), 'aeflow-bench-'));
  const input = path.join(root, train);
  const one = path.join(cwd, 'one.csv');
  writeFileSync(one, readFileSync(input, 'utf8').split('\n', 2).join('\n') + '\n');
  const encode = (file) =>
    aeflow(['encode', '--model', model, '--input', file, '--out', path.join(cwd, 'codes.csv'), '--force', '--workers', String(workers)], { cwd });
  const rows = read(path.join(out, 'evaluated', 'summary.json')).rows;
  const whole = encode(input).seconds;
  const start = encode(one).seconds;
  rmSync(cwd, { recursive: true, force: true });
  return { rows, whole: rows / whole, net: rows / Math.max(whole - start, 1e-3) };
}

/**
 * `aeflow serve` under load from autocannon on loopback (which takes CPU from the server on a small machine):
 * requests/s and latency for 1-row and 256-row requests to /encode, with 1 and 2 workers, and the 256-row rows/s
 * against `aeflow encode` over the training CSV in the same sitting.
 */
async function serveSection() {
  const { default: autocannon } = await import('autocannon');
  const model = referenceModel();
  const lines = readFileSync(path.join(root, train), 'utf8').split('\n', 257).slice(1);
  const rows = lines.map((l) => l.split(',').slice(1).map(Number));
  const bodies = { '1 row': JSON.stringify({ rows: rows.slice(0, 1) }), '256 rows': JSON.stringify({ rows }) };
  const duration = values.quick ? 5 : 15;
  const figures = [];
  for (const workers of [1, 2]) {
    const server = await background(['serve', '--model', model, '--port', '0', '--workers', String(workers)], /listening on (http:\/\/\S+)/);
    for (const [what, body] of Object.entries(bodies)) {
      const load = {
        url: `${server.match[1]}/encode`,
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body,
        connections: what === '1 row' ? 32 : 4,
      };
      await autocannon({ ...load, duration: 1 });
      const r = await autocannon({ ...load, duration });
      const perRequest = what === '1 row' ? 1 : 256;
      figures.push({
        workers,
        what,
        rps: r.requests.average,
        p50: r.latency.p50,
        p99: r.latency.p99,
        rows: r.requests.average * perRequest,
        failed: r.errors + r.non2xx,
      });
      log(
        `serve, ${workers} worker(s), ${what}: ${Math.round(r.requests.average)} req/s, p50 ${r.latency.p50} ms, p99 ${r.latency.p99} ms, ${r.errors + r.non2xx} failed`,
      );
    }
    server.child.kill('SIGTERM');
    await server.exited;
  }
  const encode = encodeRate(model, values.workers === 'auto' ? 2 : Number(values.workers));
  const best = Math.max(...figures.filter((f) => f.what === '256 rows').map((f) => f.rows));
  log(`aeflow encode, same sitting: ${Math.round(encode.whole)} rows/s (whole process), ${Math.round(encode.net)} rows/s net of its start`);
  report.push(
    '## Serve: `aeflow serve` under autocannon on loopback (POST /encode, JSON)',
    '',
    '| workers | request | req/s | p50 (ms) | p99 (ms) | rows/s | failed |',
    '| --- | --- | --- | --- | --- | --- | --- |',
    ...figures.map((f) => `| ${f.workers} | ${f.what} | ${Math.round(f.rps)} | ${f.p50} | ${f.p99} | ${Math.round(f.rows)} | ${f.failed} |`),
    '',
    `256-row requests, best: ${Math.round(best)} rows/s; \`aeflow encode\` over ${path.basename(train)} in the same sitting: ${Math.round(encode.whole)} rows/s (whole process), ${Math.round(encode.net)} net of its start. Target ≥ 0.8x \`aeflow encode\` (its rows/s over the whole command, as the encode section measures it): ${ratio(best, encode.whole)}x, ${verdict(best >= 0.8 * encode.whole)}; against encode net of its start, the stricter figure: ${ratio(best, encode.net)}x, ${verdict(best >= 0.8 * encode.net)}.`,
    '',
  );
}

/** A redis-server of the bench's own on a free loopback port, without persistence. */
async function startRedis() {
  const { createServer } = await import('node:net');
  const probe = createServer().listen(0, '127.0.0.1');
  await once(probe, 'listening');
  const { port } = probe.address();
  probe.close();
  const dir = mkdtempSync(path.join(os.tmpdir(), 'aeflow-bench-redis-'));
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir], {
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  let text = '';
  await new Promise((resolve, reject) => {
    child.stdout.setEncoding('utf8').on('data', (s) => {
      text += s;
      if (text.includes('Ready to accept connections')) resolve();
    });
    child.once('exit', (code) => reject(new Error(`redis-server exited (${code})`)));
  });
  return { port, child, dir };
}

/** `aeflow score` over a Redis stream of the training CSV's records: rows/s of 1, 2 and 3 consumer processes. */
async function redisSection() {
  if (spawnSync('redis-server', ['--version'], { stdio: 'ignore' }).status !== 0) {
    log('redis: not run (no redis-server; on Debian: apt-get install redis-server)');
    return;
  }
  const { Redis } = await import('ioredis');
  const model = referenceModel();
  const redis = await startRedis();
  const client = new Redis({ host: '127.0.0.1', port: redis.port });
  const entries = values.quick ? 20_000 : 100_000;
  const records = readFileSync(path.join(root, train), 'utf8').trim().split('\n').slice(1);
  const figures = [];
  for (const consumers of [1, 2, 3]) {
    const [input, output] = [`rows${consumers}`, `scores${consumers}`];
    for (let start = 0; start < entries; start += 5000) {
      const p = client.pipeline();
      for (let i = start; i < Math.min(entries, start + 5000); i++) p.xadd(input, '*', 'row', records[i % records.length]);
      await p.exec();
    }
    const url = `redis://127.0.0.1:${redis.port}`;
    const started = performance.now();
    const processes = await Promise.all(
      Array.from({ length: consumers }, (_, i) =>
        background([
          'score',
          '--model',
          model,
          '--input',
          `${url}/${input}`,
          '--group',
          'bench',
          '--consumer',
          `c${i}`,
          '--out',
          `${url}/${output}`,
          '--workers',
          '1',
          '--until-idle',
          '2',
        ]),
      ),
    );
    for (const p of processes) {
      const [code] = await p.exited;
      if (code !== 0) throw new Error(`a consumer exited ${code}:\n${p.output()}`);
    }
    const wall = (performance.now() - started) / 1000;
    // The output entries' IDs are the server's clock: first to last answer, without the processes' start and idle end.
    const ms = (entry) => Number(entry[0][0].split('-')[0]);
    const span = (ms(await client.xrevrange(output, '+', '-', 'COUNT', 1)) - ms(await client.xrange(output, '-', '+', 'COUNT', 1))) / 1000;
    figures.push({ consumers, rate: entries / Math.max(span, 1e-3), wall });
    log(`redis, ${consumers} consumer(s): ${entries} entries, ${Math.round(entries / span)} rows/s (first to last answer), ${wall.toFixed(1)} s wall`);
  }
  client.disconnect();
  redis.child.kill('SIGKILL');
  await once(redis.child, 'exit');
  rmSync(redis.dir, { recursive: true, force: true });
  report.push(
    `## Redis Streams: \`aeflow score\` consumers of one stream (${entries} entries of ${path.basename(train)}, one worker each)`,
    '',
    '| consumers | rows/s | x one consumer | wall (s, with start and the 2 s idle end) |',
    '| --- | --- | --- | --- |',
    ...figures.map((f) => `| ${f.consumers} | ${Math.round(f.rate)} | ${ratio(f.rate, figures[0].rate)} | ${f.wall.toFixed(1)} |`),
    '',
    `On ${os.availableParallelism()} cores the consumers share the CPU: docs/serving.md reasons about N machines.`,
    '',
  );
}

/** What `npm start` does, timed: the build, the bundled digits (written if missing), the reference run. */
function startSection() {
  const build = timed('npm', ['run', 'build', '--silent']);
  const data = aeflow(['data', 'mnist', '--if-missing']);
  const run = aeflow(['run', 'pipelines/mnist.yaml', '--out', path.join(out, 'start'), '--force']);
  const total = build.seconds + data.seconds + run.seconds;
  const e = read(path.join(out, 'start', 'evaluation.json'));
  log(
    `npm start: ${total.toFixed(1)} s (build ${build.seconds.toFixed(1)}, data ${data.seconds.toFixed(1)}, run ${run.seconds.toFixed(1)} of which evaluation ${e.seconds.total})`,
  );
  report.push(
    '## npm start (the bundled digits)',
    '',
    `${total.toFixed(1)} s: build ${build.seconds.toFixed(1)} s, data ${data.seconds.toFixed(1)} s, run ${run.seconds.toFixed(1)} s (evaluation ${e.seconds.total} s). Target ≤ 15 s: ${verdict(total <= 15)}.`,
    '',
  );
}

/**
 * The 30-d code recipe against PyTorch in the same sitting, for the same wall time: aeflow from a cold cache to
 * the saved model (evaluation off), then PyTorch trains whole epochs until the 3-minute mark (--quick: 3 epochs,
 * and PyTorch gets aeflow's own wall time). Both losses are 0.5·MSE over the Fashion-MNIST test split.
 */
function qualitySection() {
  const mark = 180;
  const epochsArgs = values.quick ? ['--set', 'train.epochs=3'] : [];
  const cache = path.join(out, 'quality-cache');
  rmSync(cache, { recursive: true, force: true });
  const run = aeflow([
    'run',
    'pipelines/fashion-30d.yaml',
    '--out',
    path.join(out, 'quality'),
    '--force',
    '--workers',
    values.workers,
    '--set',
    `data.train=${train}`,
    '--set',
    `data.test=${test}`,
    '--set',
    `cache.dir=${cache}`,
    '--set',
    'outputs.evaluate=false',
    '--set',
    'outputs.report=false',
    ...epochsArgs,
  ]);
  rmSync(cache, { recursive: true, force: true });
  const s = read(path.join(out, 'quality', 'summary.json'));
  const budget = values.quick ? Math.ceil(run.seconds) : mark;
  log(
    `aeflow fashion-30d: test loss ${s.test_loss.toFixed(5)} after ${s.epochs} epochs, ${s.to_saved_model_s} s to the saved model (${run.seconds.toFixed(1)} s process wall)`,
  );
  let torch = null;
  if (pythonHas('torch')) {
    const args = [path.join(root, 'bench', 'quality_reference.py'), train, test, '--seconds', String(budget), '--threads', String(os.availableParallelism())];
    const r = timed(python, [...args, '--out', path.join(out, 'quality-torch.pt')]);
    torch = { ...JSON.parse(r.stdout), process_wall_s: r.seconds };
    log(
      `pytorch 784-512-256-30: test loss ${torch.test_loss?.toFixed(5)} after ${torch.epochs_by_mark} epochs by ${budget} s (${r.seconds.toFixed(1)} s process wall)`,
    );
  } else {
    log('pytorch: not run (no python3 with torch; on Debian: apt-get install python3-torch libopenblas0-pthread)');
  }
  const inTime = run.seconds <= budget;
  const lossRatio = torch?.test_loss ? s.test_loss / torch.test_loss : null;
  report.push(
    `## Quality: a 30-d code in ${budget} s, aeflow (pipelines/fashion-30d.yaml) against PyTorch (bench/quality_reference.py)`,
    '',
    '| | aeflow | PyTorch | aeflow / PyTorch | target |',
    '| --- | --- | --- | --- | --- |',
    `| test 0.5·MSE at the ${budget} s mark | ${s.test_loss.toFixed(5)} | ${torch?.test_loss?.toFixed(5) ?? '-'} | ${lossRatio === null ? '-' : lossRatio.toFixed(2)} | ≤ 0.8: ${lossRatio === null ? '-' : verdict(lossRatio <= 0.8)}; ≤ 0.0039 (half PCA-30's 0.00781): ${verdict(s.test_loss <= 0.0039)} |`,
    `| epochs | ${s.epochs} | ${torch?.epochs_by_mark ?? '-'} | | |`,
    `| wall, start to saved model (s) | ${run.seconds.toFixed(1)} (summary: ${s.to_saved_model_s}) | ${torch ? torch.process_wall_s.toFixed(1) : '-'} | | ≤ ${budget}: ${verdict(inTime)} |`,
    `| training throughput (samples/s) | ${s.samples_per_s} | ${torch ? Math.round((torch.epochs.length * 60000) / torch.epochs.reduce((t, e) => t + e.seconds, 0)) : '-'} | | |`,
    '',
  );
}

/** bench/tabular.mjs, in a process of its own; its table goes into results.md. */
function tabularSection() {
  const md = path.join(out, 'tabular.md');
  const r = timed(process.execPath, [path.join(root, 'bench', 'tabular.mjs'), '--md', md, ...(values.quick ? ['--quick'] : [])]);
  process.stdout.write(r.stdout);
  report.push(...readFileSync(md, 'utf8').trimEnd().split('\n'), '');
}
