import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { AeflowError } from '../errors.js';
import { writeImageCsv } from '../sinks/imageCsv.js';
import { readIdx } from '../sources/idx.js';
import { bundledDigits, type LabelledImages, splitImages } from '../sources/mnistDigits.js';
import { parseCommand } from './args.js';

const usage = 'aeflow data mnist|fashion-mnist [--out DIR] [--if-missing] [--source DIR]';
export const FASHION_DIR = '/usr/share/datasets/fashion-mnist';

/** `aeflow data`: write the data sets aeflow knows as CSVs in the MNIST layout. */
export async function dataCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommand('data', argv, { out: { type: 'string' }, 'if-missing': { type: 'boolean' }, source: { type: 'string' } }, usage);
  if (values.help || positionals.length !== 1) {
    if (values.help) {
      console.log(usage);
      return 0;
    }
    throw new AeflowError('USAGE', 'aeflow data needs the name of a data set', `usage: ${usage}`);
  }
  const out = path.resolve(values.out ?? 'data');
  const name = positionals[0];
  const files = name === 'mnist' ? ['mnist_train.csv', 'mnist_test.csv'] : name === 'fashion-mnist' ? ['fashion_train.csv', 'fashion_test.csv'] : null;
  if (!files) throw new AeflowError('USAGE', `unknown data set "${name}"`, 'known data sets: mnist (bundled digits), fashion-mnist (Debian package)');
  const targets = files.map((f) => path.join(out, f));
  if (values['if-missing'] && targets.every((t) => existsSync(t))) return 0;
  mkdirSync(out, { recursive: true });

  let train: LabelledImages;
  let test: LabelledImages;
  if (name === 'mnist') {
    [train, test] = splitImages(bundledDigits(), 8000, 0);
  } else {
    const dir = values.source ?? FASHION_DIR;
    if (!existsSync(path.join(dir, 'train-images-idx3-ubyte.gz'))) {
      throw new AeflowError(
        'DATA_PACKAGE_MISSING',
        `Fashion-MNIST is not installed (no ${path.join(dir, 'train-images-idx3-ubyte.gz')})`,
        'install the Debian package: apt-get install dataset-fashion-mnist (or pass --source DIR holding the IDX .gz files)',
      );
    }
    train = await readIdx(path.join(dir, 'train-images-idx3-ubyte.gz'), path.join(dir, 'train-labels-idx1-ubyte.gz'));
    test = await readIdx(path.join(dir, 't10k-images-idx3-ubyte.gz'), path.join(dir, 't10k-labels-idx1-ubyte.gz'));
  }
  await writeImageCsv(targets[0], train);
  await writeImageCsv(targets[1], test);
  console.log(
    `${name}: wrote ${path.relative(process.cwd(), targets[0])} (${train.labels.length} rows) and ${path.relative(process.cwd(), targets[1])} (${test.labels.length} rows)`,
  );
  return 0;
}
