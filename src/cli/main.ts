#!/usr/bin/env node
import { readFileSync } from 'node:fs';
import { AeflowError, formatError } from '../errors.js';
import { type CommandName, commands } from './commands.js';
import { mainHelp } from './help.js';

type Command = (argv: string[]) => Promise<number>;

/** Each command's module, loaded when it runs: a command then starts without loading every other one's. */
const modules: Record<CommandName, () => Promise<Command>> = {
  run: async () => (await import('./run.js')).runCommand,
  validate: async () => (await import('./validate.js')).validateCommand,
  data: async () => (await import('./data.js')).dataCommand,
  encode: async () => (await import('./encode.js')).encodeCommand,
  evaluate: async () => (await import('./evaluate.js')).evaluateCommand,
  score: async () => (await import('./score.js')).scoreCommand,
  cache: async () => (await import('./cache.js')).cacheCommand,
};

/** The version in package.json, two folders up from dist/cli/main.js in a clone and in an installed package. */
function version(): string {
  return (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    console.log(mainHelp());
    return name ? 0 : 2;
  }
  if (name === '--version' || name === '-v') {
    console.log(version());
    return 0;
  }
  if (!Object.hasOwn(commands, name)) {
    throw new AeflowError('USAGE', `unknown command "${name}"`, `commands: ${Object.keys(commands).join(', ')} (aeflow --help shows each with its options)`);
  }
  return (await modules[name as CommandName]())(rest);
}

const verbose = process.argv.includes('--verbose');
main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e) => {
    console.error(formatError(e, verbose));
    process.exitCode = e instanceof AeflowError ? (({ USAGE: 2, OUTPUT_EXISTS: 2, INTERRUPTED: 130 } as Record<string, number>)[e.code] ?? 1) : 1;
  },
);
