import type * as vl from 'vega-lite';

/** A Vega-Lite chart rendered to an SVG string, server-side (no browser, no network). */
async function svg(spec: vl.TopLevelSpec): Promise<string> {
  // Loaded when a plot is drawn (~28 MB), not for the whole of a run.
  const [vega, vegaLite] = await Promise.all([import('vega'), import('vega-lite')]);
  const view = new vega.View(vega.parse(vegaLite.compile(spec).spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/** Train and test loss per epoch (log scale: losses fall by orders of magnitude). */
export function lossCurveSvg(epochs: ReadonlyArray<{ epoch: number; train_loss: number; test_loss: number }>): Promise<string> {
  const values = epochs.flatMap((e) => [
    { epoch: e.epoch, loss: e.train_loss, split: 'train' },
    { epoch: e.epoch, loss: e.test_loss, split: 'test' },
  ]);
  return svg({
    width: 480,
    height: 260,
    title: 'Loss per epoch',
    data: { values },
    mark: { type: 'line', point: true },
    encoding: {
      x: { field: 'epoch', type: 'quantitative', axis: { tickMinStep: 1 } },
      y: { field: 'loss', type: 'quantitative', scale: { type: 'log' } },
      color: { field: 'split', type: 'nominal' },
    },
  });
}

/** Codes projected to 2-d (their two principal directions), one point per row, coloured by label. */
export function latentMapSvg(points: ReadonlyArray<{ x: number; y: number; label: string }>): Promise<string> {
  return svg({
    width: 420,
    height: 420,
    title: 'Codes of the test rows, projected to 2-d',
    data: { values: [...points] },
    mark: { type: 'circle', size: 12, opacity: 0.6 },
    encoding: {
      x: { field: 'x', type: 'quantitative', title: 'first principal direction of the codes' },
      y: { field: 'y', type: 'quantitative', title: 'second principal direction' },
      // Unlabelled rows get no legend of one empty label.
      ...(points.some((p) => p.label !== '') ? { color: { field: 'label', type: 'nominal' } } : {}),
    },
  });
}

/** The test rows' reconstruction errors, with the anomaly threshold as a rule. */
export function errorHistogramSvg(errors: ArrayLike<number>, threshold: number): Promise<string> {
  return svg({
    width: 480,
    height: 240,
    title: 'Reconstruction error per test row',
    layer: [
      {
        data: { values: Array.from(errors, (error) => ({ error })) },
        mark: 'bar',
        encoding: {
          x: { field: 'error', type: 'quantitative', bin: { maxbins: 60 }, title: '0.5·MSE' },
          y: { aggregate: 'count', type: 'quantitative', title: 'rows' },
        },
      },
      {
        data: { values: [{ threshold }] },
        mark: { type: 'rule', color: 'firebrick', strokeWidth: 2 },
        encoding: { x: { field: 'threshold', type: 'quantitative' } },
      },
    ],
  });
}

/** Each input column's reconstruction error per epoch (log scale), one line per column. */
export function columnErrorsSvg(points: ReadonlyArray<{ epoch: number; column: string; error: number }>): Promise<string> {
  return svg({
    width: 480,
    height: 300,
    title: 'Reconstruction error per column',
    data: { values: [...points] },
    mark: { type: 'line', point: true },
    encoding: {
      x: { field: 'epoch', type: 'quantitative', axis: { tickMinStep: 1 } },
      y: { field: 'error', type: 'quantitative', scale: { type: 'log' }, title: '0.5·MSE of its features' },
      color: { field: 'column', type: 'nominal', sort: { field: 'error', op: 'max', order: 'descending' } },
    },
  });
}
