import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { EvaluationResult } from '../pipeline/evaluate.js';
import { errorHistogramSvg, latentMapSvg, lossCurveSvg } from './plots.js';

/**
 * report.html: one self-contained file (pictures inlined, no network) with the pipeline, the summary, the loss
 * curve, the metrics, the snapshots and comparison, and the evaluation with its latent map and error histogram.
 * Built from what the run folder holds (summary.json, metrics.jsonl, pipeline.yaml, PNGs), plus the evaluation
 * when there is one.
 */
export async function writeReport(runDir: string, evaluation: EvaluationResult | null): Promise<string> {
  const read = (name: string) => readFileSync(path.join(runDir, name), 'utf8');
  const summary = JSON.parse(read('summary.json')) as Record<string, unknown>;
  const metrics = read('metrics.jsonl')
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Record<string, number | string>);
  const png = (file: string) => `<img alt="${esc(path.basename(file))}" src="data:image/png;base64,${readFileSync(file).toString('base64')}">`;
  const snapshotDir = path.join(runDir, 'snapshots');
  const snapshots = existsSync(snapshotDir)
    ? readdirSync(snapshotDir)
        .filter((f) => f.endsWith('.png'))
        .sort()
    : [];
  const pictures = ['comparison.png', 'samples.png', 'interpolation.png', 'manifold.png'].filter((f) => existsSync(path.join(runDir, f)));

  const sections: string[] = [];
  sections.push(`<h1>aeflow report: ${esc(String(summary.pipeline))}</h1>`);
  sections.push(
    table(
      ['', ''],
      [
        ['model', String(summary.model)],
        ['test loss', fmt(summary.test_loss)],
        ['train loss', fmt(summary.train_loss)],
        ['epochs', String(summary.epochs)],
        ['training rows / test rows', `${summary.rows} / ${summary.test_rows}`],
        ['samples/s', String(summary.samples_per_s)],
        ['backend', `${summary.backend}, ${summary.workers} worker(s)`],
        ['wall', `${summary.wall_s} s`],
      ],
    ),
  );
  // Each chart also goes to plots/ as an SVG file of its own.
  const plots = path.join(runDir, 'plots');
  mkdirSync(plots, { recursive: true });
  const chart = (name: string, svg: string) => {
    writeFileSync(path.join(plots, name), svg);
    return svg;
  };
  sections.push(`<h2>Loss</h2>${chart('loss.svg', await lossCurveSvg(metrics as never))}`);
  sections.push(
    `<h2>Metrics</h2>${table(
      ['epoch', 'phase', 'train loss', 'test loss', 's', 'samples/s'],
      metrics.map((m) => [String(m.epoch), String(m.phase ?? ''), fmt(m.train_loss), fmt(m.test_loss), String(m.seconds), String(m.samples_per_s)]),
    )}`,
  );
  sections.push(`<h2>Reconstructions</h2>${pictures.map((f) => `<figure>${png(path.join(runDir, f))}<figcaption>${esc(f)}</figcaption></figure>`).join('')}`);
  if (snapshots.length > 0) {
    sections.push(
      `<h3>Snapshots</h3>${snapshots.map((f) => `<figure>${png(path.join(snapshotDir, f))}<figcaption>${esc(f.replace('.png', ''))}</figcaption></figure>`).join('')}`,
    );
  }
  if (evaluation) {
    const e = evaluation.evaluation;
    const rows = [
      ['autoencoder', fmt(e.model_test_loss), e.probes ? e.probes.model.logistic.toFixed(3) : '', e.probes ? e.probes.model.knn.toFixed(3) : ''],
      [
        `PCA, ${e.pca_components} components`,
        fmt(e.pca_test_loss),
        e.probes ? e.probes.pca.logistic.toFixed(3) : '',
        e.probes ? e.probes.pca.knn.toFixed(3) : '',
      ],
    ];
    if (e.probes) rows.push(['raw values', '', e.probes.raw.logistic.toFixed(3), e.probes.raw.knn.toFixed(3)]);
    sections.push(`<h2>Evaluation</h2>${table(['', 'test loss', 'logistic probe', `${e.probes?.k ?? 5}-NN probe`], rows)}`);
    sections.push(
      `<p>${e.anomaly.flagged} of ${e.test_rows} test rows lie above the ${e.anomaly.percentile}th percentile of the training errors (${e.anomaly.threshold.toPrecision(4)}).</p>`,
    );
    if (evaluation.latent.length > 0) sections.push(chart('latent-map.svg', await latentMapSvg(evaluation.latent)));
    sections.push(chart('errors.svg', await errorHistogramSvg(evaluation.testErrors, e.anomaly.threshold)));
  }
  sections.push(`<h2>Pipeline</h2><pre>${esc(read('pipeline.yaml'))}</pre>`);

  const html = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>aeflow report: ${esc(String(summary.pipeline))}</title>
<style>
body { font: 14px/1.4 system-ui, sans-serif; margin: 2em auto; max-width: 1000px; color: #222; }
table { border-collapse: collapse; margin: 0.5em 0 1em; } td, th { border-bottom: 1px solid #ddd; padding: 2px 10px; text-align: right; }
td:first-child, th:first-child { text-align: left; } figure { display: inline-block; margin: 0 1em 1em 0; }
img { image-rendering: pixelated; min-width: 200px; } pre { background: #f6f6f6; padding: 1em; overflow: auto; }
</style></head>
<body>
${sections.join('\n')}
</body></html>
`;
  const file = path.join(runDir, 'report.html');
  writeFileSync(file, html);
  return file;
}

function table(header: string[], rows: string[][]): string {
  const th = header.some(Boolean) ? `<tr>${header.map((h) => `<th>${esc(h)}</th>`).join('')}</tr>` : '';
  return `<table>${th}${rows.map((r) => `<tr>${r.map((c) => `<td>${esc(c)}</td>`).join('')}</tr>`).join('')}</table>`;
}

function fmt(v: unknown): string {
  return typeof v === 'number' ? v.toPrecision(4) : '';
}

function esc(s: string): string {
  return s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c] as string);
}
