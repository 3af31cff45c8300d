import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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
    } finally {
      await browser.close();
    }
  });
});
