import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { AeflowError } from '../errors.js';
import { writeImageCsv } from '../sinks/imageCsv.js';
import { writeTableCsv } from '../sinks/tableCsv.js';
import { bundledMovies, splitTable } from '../sources/movies.js';
import { existing, refuseOverwrite } from '../sinks/overwrite.js';
import { readIdx } from '../sources/idx.js';
import { bundledDigits, type LabelledImages, splitImages } from '../sources/mnistDigits.js';
import { parseCommand, usageError } from './args.js';

export const FASHION_DIR = '/usr/share/datasets/fashion-mnist';

/** The data sets `aeflow data` writes, and their two files. */
const DATA_SETS: Record<string, [string, string]> = {
  mnist: ['mnist_train.csv', 'mnist_test.csv'],
  'fashion-mnist': ['fashion_train.csv', 'fashion_test.csv'],
  movies: ['movies_train.csv', 'movies_test.csv'],
};

/** `aeflow data`: write the data sets aeflow knows as CSVs in the MNIST layout. */
export async function dataCommand(argv: string[]): Promise<number> {
  const args = parseCommand('data', argv);
  if (!args) return 0;
  const { values, positionals } = args;
  if (positionals.length !== 1) throw usageError('data', 'aeflow data needs the name of a data set');
  const out = path.resolve(values.out ?? 'data');
  const name = positionals[0];
  const files = DATA_SETS[name];
  if (!files) {
    throw new AeflowError(
      'USAGE',
      `unknown data set "${name}"`,
      'known data sets: mnist (bundled digits), fashion-mnist (Debian package), movies (bundled table)',
    );
  }
  const targets = files.map((f) => path.join(out, f));
  const present = existing(targets);
  if (values['if-missing'] && present.length === targets.length) {
    console.log(`${name}: ${targets.join(' and ')} are there; kept (--if-missing)`);
    return 0;
  }
  // With one of the pair missing, --if-missing writes both: the one there is written over only with --force.
  refuseOverwrite(present, Boolean(values.force), {
    force: 'write both again',
    instead: values['if-missing'] ? 'remove it so that --if-missing writes both' : 'use --if-missing to keep CSVs that are there',
  });
  mkdirSync(out, { recursive: true });
  if (name === 'movies') {
    const [train, test] = splitTable(bundledMovies(), 0.8, 0);
    await writeTableCsv(targets[0], train);
    await writeTableCsv(targets[1], test);
    console.log(`${name}: ${wrote(targets, train.rows.length, test.rows.length)}`);
    return 0;
  }

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
  console.log(`${name}: ${wrote(targets, train.labels.length, test.labels.length)}`);
  return 0;
}

function wrote(targets: string[], train: number, test: number): string {
  return `wrote ${path.relative(process.cwd(), targets[0])} (${train} rows) and ${path.relative(process.cwd(), targets[1])} (${test} rows)`;
}
