#!/usr/bin/env node
import { AeflowError, formatError } from '../errors.js';
import { cacheCommand } from './cache.js';
import { dataCommand } from './data.js';
import { encodeCommand } from './encode.js';
import { evaluateCommand } from './evaluate.js';
import { runCommand } from './run.js';
import { validateCommand } from './validate.js';

const commands: Record<string, (argv: string[]) => Promise<number>> = {
  run: runCommand,
  validate: validateCommand,
  data: dataCommand,
  encode: encodeCommand,
  evaluate: evaluateCommand,
  cache: cacheCommand,
};

const help = `aeflow: train autoencoders as declarative, streaming pipelines

  aeflow run PIPELINE.yaml [--set key=value]... [--out DIR] [--force] [--backend B] [--workers N]
  aeflow validate PIPELINE.yaml [--set key=value]... [--no-data]
  aeflow data mnist|fashion-mnist [--out DIR] [--if-missing]
  aeflow encode --model RUN/model --input X.csv --out features.csv
  aeflow evaluate --model RUN/model --train X.csv --test Y.csv [--components K] [--percentile P]
  aeflow cache list|clear [--dir DIR]

Add --verbose to any command for stack traces. See README.md.`;

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    console.log(help);
    return name ? 0 : 2;
  }
  const command = commands[name];
  if (!command) throw new AeflowError('USAGE', `unknown command "${name}"`, `commands: ${Object.keys(commands).join(', ')}`);
  return command(rest);
}

const verbose = process.argv.includes('--verbose');
main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e) => {
    console.error(formatError(e, verbose));
    process.exitCode = e instanceof AeflowError ? (({ USAGE: 2, INTERRUPTED: 130 } as Record<string, number>)[e.code] ?? 1) : 1;
  },
);
