import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Evaluation, EvaluationResult } from '../types.js';
import { chartFigure, esc, fmt, table } from './html.js';
import { errorHistogramSvg, latentMapSvg, lossCurveSvg } from './plots.js';
import { columnsSection } from './tableReport.js';

export interface ReportOptions {
  /** The run's wall time, asked for as the page is put together (summary.json's figure was written earlier). */
  readonly wallSeconds?: () => number;
}

/** What the report reads from the run folder. */
interface RunFiles {
  readonly dir: string;
  readonly summary: Record<string, unknown>;
  readonly metrics: Array<Record<string, number | string>>;
  readonly pipelineYaml: string;
}

/** A picture of the run folder: its file and what the caption says it shows. */
interface Picture {
  readonly file: string;
  readonly caption: string;
}

/** Widths the pictures are scaled to fill: one column of two, or the page. */
const COLUMN_PX = 470;
const PAGE_PX = 960;

/**
 * report.html: one self-contained file (pictures inlined, no network) with a verdict against PCA, the summary, the
 * loss curve, the metrics, the snapshots and comparison, and the evaluation with its latent map and error
 * histogram. Built from what the run folder holds (summary.json, metrics.jsonl, pipeline.yaml, PNGs), plus the
 * evaluation when there is one.
 */
export async function writeReport(runDir: string, evaluation: EvaluationResult | null, options: ReportOptions = {}): Promise<string> {
  const run = readRun(runDir);
  // Each chart also goes to plots/ as an SVG file of its own.
  const plots = path.join(runDir, 'plots');
  mkdirSync(plots, { recursive: true });
  const chart = async (name: string, svg: Promise<string>) => {
    const text = await svg;
    writeFileSync(path.join(plots, name), text);
    return text;
  };
  const loss = await chart('loss.svg', lossCurveSvg(run.metrics as never));
  const evaluated = evaluation ? await evaluationSection(evaluation, chart) : '';
  const sections = [
    `<h1>aeflow report: ${esc(String(run.summary.pipeline))}</h1>`,
    evaluation ? `<p class="verdict">${esc(verdict(evaluation.evaluation))}</p>` : '',
    summaryTable(run.summary, options.wallSeconds?.()),
    run.summary.test_loss_is ? `<p>Train and test loss: ${esc(String(run.summary.test_loss_is))}.</p>` : '',
    `<h2>Loss</h2>${chartFigure(loss, `Train and test loss per epoch, log scale${run.summary.objective ? ` (${String(run.summary.objective)})` : ''}.`)}`,
    metricsTable(run.metrics),
    picturesSection(run),
    await columnsSection(run.dir, chart),
    evaluated,
    `<h2>Pipeline</h2><pre>${esc(run.pipelineYaml)}</pre>`,
  ];
  const file = path.join(runDir, 'report.html');
  writeFileSync(file, page(String(run.summary.pipeline), sections.filter(Boolean)));
  return file;
}

function readRun(dir: string): RunFiles {
  const read = (name: string) => readFileSync(path.join(dir, name), 'utf8');
  const metrics = read('metrics.jsonl')
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Record<string, number | string>);
  return { dir, summary: JSON.parse(read('summary.json')) as Record<string, unknown>, metrics, pipelineYaml: read('pipeline.yaml') };
}

/**
 * One sentence on whether the autoencoder earns its keep: its test reconstruction loss against PCA's, PCA with
 * as many components as the code has unless the evaluation was asked for another count.
 */
export function verdict(e: Evaluation): string {
  const baseline = e.pca_components === e.code_size ? 'PCA with the same code size' : `PCA with ${e.pca_components} components (the code has ${e.code_size})`;
  const model = e.model_test_loss.toPrecision(3);
  const pca = e.pca_test_loss.toPrecision(3);
  const figures = `(${model} against ${pca}, ${e.model_test_loss_is ?? '0.5·MSE of the clean test rows'})`;
  if (model === pca) return `Reconstructs as well as ${baseline} ${figures}.`;
  if (e.model_test_loss < e.pca_test_loss) return `Reconstructs better than ${baseline} ${figures}.`;
  return `Reconstructs worse than ${baseline} ${figures}: see pipelines/fashion-quality.yaml for one that does better.`;
}

function summaryTable(summary: Record<string, unknown>, wallSeconds: number | undefined): string {
  const objective = summary.objective ? ` (${String(summary.objective)})` : '';
  const wall = wallSeconds === undefined ? Number(summary.wall_s) : Math.round(wallSeconds * 100) / 100;
  const rows: string[][] = [
    ['model', String(summary.model)],
    [`test loss${objective}`, fmt(summary.test_loss)],
    [`train loss${objective}`, fmt(summary.train_loss)],
    ...(typeof summary.noisy_input_loss === 'number' ? [['the noisy input itself (doing nothing)', fmt(summary.noisy_input_loss)]] : []),
    ['epochs', String(summary.epochs)],
    ['training rows / test rows', `${summary.rows} / ${summary.test_rows}`],
    ['samples/s', String(summary.samples_per_s)],
    ['backend', `${summary.backend}, ${summary.workers} worker(s)`],
    // Older runs' wall_s ended at the saved model and had no to_saved_model_s.
    ...(typeof summary.to_saved_model_s === 'number'
      ? [
          ['wall, whole run', `${wall} s`],
          ['wall, to the saved model', `${summary.to_saved_model_s} s`],
        ]
      : [['wall', `${wall} s`]]),
  ];
  return table(['', ''], rows);
}

/** Metrics per epoch; a long run's table is folded away (the loss chart above shows the same). */
function metricsTable(metrics: RunFiles['metrics']): string {
  const html = metricsRows(metrics);
  return metrics.length > 20 ? `<h2>Metrics</h2><details><summary>${metrics.length} epochs</summary>${html}</details>` : `<h2>Metrics</h2>${html}`;
}

function metricsRows(metrics: RunFiles['metrics']): string {
  return `${table(
    ['epoch', 'phase', 'train loss', 'test loss', 's', 'samples/s'],
    metrics.map((m) => [String(m.epoch), String(m.phase ?? ''), fmt(m.train_loss), fmt(m.test_loss), String(m.seconds), String(m.samples_per_s)]),
  )}`;
}

/** The run's pictures and its snapshots, each scaled up with crisp pixels and captioned. */
function picturesSection(run: RunFiles): string {
  const denoising = typeof run.summary.noisy_input_loss === 'number';
  const pictures: Picture[] = [
    {
      file: 'comparison.png',
      caption: denoising
        ? 'After training, the first test images: noisy inputs (top row), the model’s denoised outputs (middle), the clean originals (bottom).'
        : 'After training, the first test images (top row) above their reconstructions (bottom row).',
    },
    // The two square grids side by side, the strip below them.
    { file: 'samples.png', caption: 'Images decoded from codes drawn from the prior N(0, I) (seeded).' },
    { file: 'manifold.png', caption: 'The 2-d latent space decoded over a 15×15 grid of the prior’s 5%–95% quantiles.' },
    { file: 'interpolation.png', caption: 'The first test image, then the decoded straight line between the codes of the first two, then the second image.' },
  ].filter((p) => existsSync(path.join(run.dir, p.file)));
  const snapshotDir = path.join(run.dir, 'snapshots');
  const snapshots = existsSync(snapshotDir)
    ? readdirSync(snapshotDir)
        .filter((f) => f.endsWith('.png'))
        .sort()
    : [];
  // A table's run has no pictures: its columns section stands in for them.
  if (pictures.length === 0 && snapshots.length === 0) return '';
  let html = `<h2>Reconstructions</h2><div class="pictures">${pictures.map((p) => pngFigure(path.join(run.dir, p.file), p.caption)).join('')}</div>`;
  if (snapshots.length > 0) {
    const figures = snapshots.map((f) => pngFigure(path.join(snapshotDir, f), snapshotCaption(f, run, denoising)));
    html += `<h3>Snapshots</h3><div class="pictures">${figures.join('')}</div>`;
  }
  return html;
}

function snapshotCaption(file: string, run: RunFiles, denoising: boolean): string {
  const epoch = Number(/(\d+)/.exec(file)?.[1]);
  const phase = run.metrics.find((m) => m.epoch === epoch)?.phase;
  const when = `Epoch ${epoch} of ${String(run.summary.epochs)}${phase && (run.summary.phases as unknown[] | undefined)?.length !== 1 ? ` (${phase})` : ''}`;
  return denoising
    ? `${when}: noisy inputs (top row), denoised outputs (middle), clean originals (bottom).`
    : `${when}: each row of test images above the same images reconstructed.`;
}

async function evaluationSection(evaluation: EvaluationResult, chart: (name: string, svg: Promise<string>) => Promise<string>): Promise<string> {
  const e = evaluation.evaluation;
  // Without labels there are no probes, and no columns for them.
  const probe = (s: { logistic: number; knn: number } | undefined) => (!e.probes ? [] : s ? [s.logistic.toFixed(3), s.knn.toFixed(3)] : ['', '']);
  const rows = [
    ['autoencoder', fmt(e.model_test_loss), ...probe(e.probes?.model)],
    [`PCA, ${e.pca_components} components`, fmt(e.pca_test_loss), ...probe(e.probes?.pca)],
  ];
  if (e.probes) rows.push(['raw values', '', ...probe(e.probes.raw)]);
  const header = ['', `test loss: ${e.model_test_loss_is}`, ...(e.probes ? ['logistic probe', `${e.probes.k}-NN probe`] : [])];
  const labelled = evaluation.latent.some((p) => p.label !== '');
  const parts = [
    `<h2>Evaluation</h2>${table(header, rows)}`,
    `<p>${e.anomaly.flagged} of ${e.test_rows} test rows lie above the ${e.anomaly.percentile}th percentile of the training errors (${e.anomaly.threshold.toPrecision(4)}).</p>`,
  ];
  const figures: string[] = [];
  if (evaluation.latent.length > 0) {
    figures.push(
      chartFigure(
        await chart('latent-map.svg', latentMapSvg(evaluation.latent)),
        `The codes of ${evaluation.latent.length} test rows projected onto their two principal directions${labelled ? ', coloured by label' : ''}.`,
      ),
    );
  }
  figures.push(
    chartFigure(
      await chart('errors.svg', errorHistogramSvg(evaluation.testErrors, e.anomaly.threshold)),
      `The test rows’ reconstruction errors (0.5·MSE per row); the rule marks the anomaly threshold, the training errors’ ${e.anomaly.percentile}th percentile.`,
    ),
  );
  parts.push(`<div class="pictures">${figures.join('')}</div>`);
  return parts.join('\n');
}

/** A PNG inlined at a whole multiple of its size (crisp pixels), sized to a column, or the page for a strip. */
function pngFigure(file: string, caption: string): string {
  const bytes = readFileSync(file);
  // The IHDR chunk, first in every PNG, holds the width and height at bytes 16 and 20.
  const width = bytes.readUInt32BE(16);
  const height = bytes.readUInt32BE(20);
  const scale = displayScale(width, height);
  const img = `<img alt="${esc(caption)}" width="${width * scale}" height="${height * scale}" src="data:image/png;base64,${bytes.toString('base64')}">`;
  return `<figure style="width: ${width * scale}px">${img}<figcaption>${esc(caption)}</figcaption></figure>`;
}

/**
 * How many times native size a picture is shown: as many as fill one of two columns; a strip too wide for two
 * times that (a comparison, an interpolation) fills the page instead; a large square one (a manifold) stays as it is.
 */
function displayScale(width: number, height: number): number {
  const column = Math.floor(COLUMN_PX / width);
  if (column >= 2) return Math.min(column, 16);
  if (height * 2 < width) return Math.max(1, Math.floor(PAGE_PX / width));
  return 1;
}

function page(title: string, sections: string[]): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>aeflow report: ${esc(title)}</title>
<style>
body { font: 14px/1.4 system-ui, sans-serif; margin: 2em auto; max-width: ${PAGE_PX + 40}px; padding: 0 20px; color: #222; }
table { border-collapse: collapse; margin: 0.5em 0 1em; } td, th { border-bottom: 1px solid #ddd; padding: 2px 10px; text-align: right; }
td:first-child, th:first-child { text-align: left; white-space: nowrap; }
.verdict { font-size: 1.2em; font-weight: 600; }
.pictures { display: flex; flex-wrap: wrap; gap: 1em 20px; align-items: flex-start; }
figure { margin: 0 0 1em; max-width: 100%; } figcaption { color: #555; font-size: 0.9em; margin-top: 0.3em; }
figure img { display: block; max-width: 100%; height: auto; image-rendering: pixelated; }
.wide { overflow-x: auto; max-width: 100%; }
pre { background: #f6f6f6; padding: 1em; overflow: auto; }
</style></head>
<body>
${sections.join('\n')}
</body></html>
`;
}
