import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Evaluation } from '../../src/pipeline/evaluate.js';
import { verdict } from '../../src/sinks/report.js';
import { aeflow } from '../cli/cli.js';
import { fixture, tempDir } from '../helpers.js';

const CHROMIUM = '/usr/bin/chromium';
// CI installs Debian's chromium (.ci/run); a developer machine without it skips, CI never does.
const haveBrowser = existsSync(CHROMIUM) || Boolean(process.env.CI);

describe('report.html', () => {
  const tmp = tempDir();
  const run = path.join(tmp.dir, 'run');
  beforeAll(() => {
    const r = aeflow(['run', fixture('tiny.yaml'), '--out', run, '--set', 'train.epochs=6']);
    expect(r.code, r.stderr).toBe(0);
  });
  afterAll(tmp.cleanup);

  it('is one self-contained file: pictures inlined, nothing fetched', () => {
    const html = readFileSync(path.join(run, 'report.html'), 'utf8');
    expect(html).not.toMatch(/(src|href)="(?!data:)/);
    expect((html.match(/<svg/g) ?? []).length).toBeGreaterThanOrEqual(3);
    expect(html).toContain('PCA, 4 components');
    expect(html).toContain('logistic probe');
    for (const plot of ['loss.svg', 'latent-map.svg', 'errors.svg']) expect(readFileSync(path.join(run, 'plots', plot), 'utf8')).toMatch(/^<svg/);
  });

  it('opens with a one-sentence verdict against PCA of the same code size, with the figures of evaluation.json', () => {
    const html = readFileSync(path.join(run, 'report.html'), 'utf8');
    const e = JSON.parse(readFileSync(path.join(run, 'evaluation.json'), 'utf8'));
    const [model, pca] = [e.model_test_loss.toPrecision(3), e.pca_test_loss.toPrecision(3)];
    const how = model === pca ? 'as well as' : e.model_test_loss < e.pca_test_loss ? 'better than' : 'worse than';
    const verdict = /<p class="verdict">([^<]*)<\/p>/.exec(html)?.[1];
    expect(verdict).toBe(
      `Reconstructs ${how} PCA with the same code size (${model} against ${pca}, 0.5·MSE of the clean test rows)` +
        `${how === 'worse than' ? ': see pipelines/fashion-quality.yaml for one that does better' : ''}.`,
    );
    // at the top: before the summary table
    expect(html.indexOf('class="verdict"')).toBeLessThan(html.indexOf('<table'));
  });

  it('shows the whole run’s wall time and the time to the saved model, as summary.json has them', () => {
    const html = readFileSync(path.join(run, 'report.html'), 'utf8');
    const summary = JSON.parse(readFileSync(path.join(run, 'summary.json'), 'utf8'));
    expect(html).toContain(`<td>wall, whole run</td><td>${summary.wall_s} s</td>`);
    expect(html).toContain(`<td>wall, to the saved model</td><td>${summary.to_saved_model_s} s</td>`);
    expect(html).toContain(`<td>test loss (half-mse)</td><td>${summary.test_loss.toPrecision(4)}</td>`);
  });

  it.skipIf(!haveBrowser)('renders in headless Chromium with no console errors, every image loaded, no network', async () => {
    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
    try {
      const page = await browser.newPage();
      const errors: string[] = [];
      const requests: string[] = [];
      page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
      page.on('pageerror', (e) => errors.push(String(e)));
      page.on('request', (r) => requests.push(r.url()));
      await page.goto(`file://${path.join(run, 'report.html')}`, { waitUntil: 'load' });
      const images = await page.$$eval('img', (all) =>
        all.map((i) => ({ complete: (i as unknown as { complete: boolean }).complete, width: (i as unknown as { naturalWidth: number }).naturalWidth })),
      );
      const charts = await page.$$eval('svg', (all) => all.map((s) => s.getBoundingClientRect().width));
      expect(errors).toEqual([]);
      expect(images.length).toBeGreaterThanOrEqual(4);
      for (const image of images) expect(image.complete && image.width > 0).toBe(true);
      expect(charts.length).toBeGreaterThanOrEqual(3);
      for (const width of charts) expect(width).toBeGreaterThan(100);
      expect(requests.filter((u) => !u.startsWith('file:') && !u.startsWith('data:'))).toEqual([]);

      // Every picture and chart is a figure with a caption saying what it shows.
      const figures = await page.$$eval('img, figure.chart > svg', (all) =>
        all.map((el) => ({ tag: el.tagName, caption: el.closest('figure')?.querySelector('figcaption')?.textContent ?? '' })),
      );
      expect(figures.length).toBeGreaterThanOrEqual(images.length + 3);
      for (const f of figures) expect(f.caption.length, f.tag).toBeGreaterThan(20);
      const captions = figures.map((f) => f.caption);
      expect(captions).toContain('After training, the first test images (top row) above their reconstructions (bottom row).');
      for (const epoch of [2, 4, 6]) expect(captions).toContain(`Epoch ${epoch} of 6: each row of test images above the same images reconstructed.`);
      // The tiny PNGs are shown several times their size, by whole multiples, with crisp pixels, inside the page.
      const shown = await page.$$eval('img', (all) =>
        all.map((i) => {
          const img = i as unknown as { naturalWidth: number; getBoundingClientRect(): { width: number; right: number } };
          return {
            natural: img.naturalWidth,
            width: img.getBoundingClientRect().width,
            right: img.getBoundingClientRect().right,
            rendering: (globalThis as unknown as { getComputedStyle(e: unknown): { imageRendering: string } }).getComputedStyle(i).imageRendering,
          };
        }),
      );
      const pageRight = await page.$eval('body', (b) => b.getBoundingClientRect().right);
      for (const s of shown) {
        expect(s.rendering).toBe('pixelated');
        expect(s.width).toBeGreaterThanOrEqual(4 * s.natural);
        expect(s.width % s.natural).toBe(0);
        expect(s.right).toBeLessThanOrEqual(pageRight);
      }
    } finally {
      await browser.close();
    }
  });
});

describe('report.html of a variational autoencoder', () => {
  const tmp = tempDir();
  const run = path.join(tmp.dir, 'vae');
  beforeAll(() => {
    const r = aeflow(['run', fixture('tiny-vae.yaml'), '--out', run, '--set', 'train.epochs=2', '--set', 'outputs.evaluate=false']);
    expect(r.code, r.stderr).toBe(0);
  });
  afterAll(tmp.cleanup);

  it.skipIf(!haveBrowser)('lays its pictures out over the page width, not in one column, each captioned', async () => {
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu', '--no-first-run'] });
    try {
      const page = await browser.newPage();
      await page.goto(`file://${path.join(run, 'report.html')}`, { waitUntil: 'load' });
      // The Reconstructions section's pictures: comparison, samples, manifold, interpolation.
      const boxes = await page.$$eval('h2 + .pictures figure', (all) =>
        all.map((f) => ({
          caption: f.querySelector('figcaption')?.textContent ?? '',
          top: f.getBoundingClientRect().top,
          right: f.getBoundingClientRect().right,
        })),
      );
      const pageRight = await page.$eval('body', (b) => b.getBoundingClientRect().right);
      expect(boxes.map((b) => b.caption.split(' ').slice(0, 4).join(' '))).toEqual([
        'After training, the first',
        'Images decoded from codes',
        'The 2-d latent space',
        'The first test image,',
      ]);
      expect(new Set(boxes.map((b) => b.top)).size).toBeLessThan(boxes.length);
      for (const b of boxes) expect(b.right).toBeLessThanOrEqual(pageRight);
    } finally {
      await browser.close();
    }
  });
});

describe('the report’s verdict', () => {
  const evaluation = (model: number, pca: number, components = 100) =>
    ({
      model_test_loss: model,
      pca_test_loss: pca,
      pca_components: components,
      code_size: 100,
      model_test_loss_is: '0.5·MSE of the clean test rows',
    }) as Evaluation;

  it('says better, worse or as well, with both figures to three digits', () => {
    expect(verdict(evaluation(0.00945, 0.00383))).toBe(
      'Reconstructs worse than PCA with the same code size (0.00945 against 0.00383, 0.5·MSE of the clean test rows): see pipelines/fashion-quality.yaml for one that does better.',
    );
    expect(verdict(evaluation(0.00304, 0.00383))).toBe(
      'Reconstructs better than PCA with the same code size (0.00304 against 0.00383, 0.5·MSE of the clean test rows).',
    );
    expect(verdict(evaluation(0.0038301, 0.0038299))).toBe(
      'Reconstructs as well as PCA with the same code size (0.00383 against 0.00383, 0.5·MSE of the clean test rows).',
    );
  });

  it('names PCA’s component count when it is not the code size', () => {
    expect(verdict(evaluation(0.01, 0.02, 16))).toMatch(/^Reconstructs better than PCA with 16 components \(the code has 100\) /);
  });
});
