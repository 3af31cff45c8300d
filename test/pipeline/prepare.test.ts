import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadPipeline } from '../../src/config/load.js';
import { prepareData, writePreprocessing } from '../../src/pipeline/prepare.js';
import { tempDir } from '../helpers.js';

const tmp = tempDir();
afterAll(tmp.cleanup);

function pipeline(name: string, data: string, csv = 'a,b,kind\n1,10,x\n3,,y\n5,30,x\n'): string {
  const file = path.join(tmp.dir, `${name}.yaml`);
  writeFileSync(path.join(tmp.dir, `${name}.csv`), csv);
  writeFileSync(
    file,
    `data: {train: ${name}.csv, test: ${name}.csv, label_column: null, ${data}}\nstages: [{type: batch, size: 2}]\nmodel: {type: dense-autoencoder, encoder: [auto, 2]}\ntrain: {epochs: 1}\n`,
  );
  return file;
}

describe('prepareData', () => {
  it('fits the preprocessing on the raw training split and gives the model its width', async () => {
    const loaded = await prepareData(await loadPipeline(pipeline('fit', 'normalize: standard, missing: mean, categorical: [kind]')));
    const p = loaded.preprocessing;
    expect(p?.json.features).toEqual(['a', 'b', 'kind=x', 'kind=y', 'kind=other']);
    const a = p?.json.columns[0];
    // The population standard deviation, as scikit-learn's StandardScaler: sqrt(((1-3)² + 0 + (5-3)²) / 3).
    expect(a?.kind === 'numeric' && [a.shift, a.scale]).toEqual([3, Math.sqrt(8 / 3)]);
    // b's mean leaves the empty field out: (10 + 30) / 2.
    const b = p?.json.columns[1];
    expect(b?.kind === 'numeric' && b.fill).toBe(20);
    expect(loaded.config.model.encoder).toEqual([5, 2]);
  });

  it('under missing: skip, the rows training drops take no part in the statistics', async () => {
    // The second row lacks b: with it a's mean would be 10 / 3, without it (1 + 5) / 2.
    const file = pipeline('skip', 'normalize: standard, missing: skip', 'a,b\n1,10\n4,\n5,30\n');
    const loaded = await prepareData(await loadPipeline(file));
    const a = loaded.preprocessing?.json.columns[0];
    expect(a?.kind === 'numeric' && a.shift).toBe(3);
  });

  it('on resume reads the run folder’s preprocessing.json instead of fitting again', async () => {
    const file = pipeline('resume', 'normalize: minmax, missing: zero, categorical: [kind]');
    const first = await prepareData(await loadPipeline(file));
    const folder = path.join(tmp.dir, 'run');
    mkdirSync(folder);
    await writePreprocessing(folder, first.preprocessing!);
    // The CSV changes after the run started: a resumed run must go on seeing the features it trained on.
    writeFileSync(path.join(tmp.dir, 'resume.csv'), 'a,b,kind\n100,1,z\n200,2,z\n');
    const resumed = await prepareData(await loadPipeline(file), { resumeFolder: folder });
    expect(resumed.preprocessing?.json).toEqual(first.preprocessing?.json);
    const refitted = await prepareData(await loadPipeline(file));
    expect(refitted.preprocessing?.json).not.toEqual(first.preprocessing?.json);
  });

  it('an auto input without preprocessing takes the CSV’s feature count', async () => {
    const file = path.join(tmp.dir, 'plain.yaml');
    writeFileSync(path.join(tmp.dir, 'plain.csv'), 'label,p1,p2,p3\n1,0,255,3\n');
    writeFileSync(
      file,
      'data: {train: plain.csv, test: plain.csv}\nstages: [{type: batch, size: 2}]\nmodel: {type: dense-autoencoder, encoder: [auto, 2]}\ntrain: {epochs: 1}\n',
    );
    const loaded = await prepareData(await loadPipeline(file));
    expect(loaded.preprocessing).toBeNull();
    expect(loaded.config.model.encoder).toEqual([3, 2]);
  });
});
