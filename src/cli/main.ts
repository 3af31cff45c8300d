#!/usr/bin/env node
import { AeflowError, formatError } from '../errors.js';

type Command = (argv: string[]) => Promise<number>;

/** Each command's module, loaded when it runs: a command then starts without loading every other one's. */
const commands: Record<string, () => Promise<Command>> = {
  run: async () => (await import('./run.js')).runCommand,
  validate: async () => (await import('./validate.js')).validateCommand,
  data: async () => (await import('./data.js')).dataCommand,
  encode: async () => (await import('./encode.js')).encodeCommand,
  evaluate: async () => (await import('./evaluate.js')).evaluateCommand,
  cache: async () => (await import('./cache.js')).cacheCommand,
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
  return (await command())(rest);
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
