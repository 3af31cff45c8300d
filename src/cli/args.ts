import { parseArgs, type ParseArgsConfig } from 'node:util';
import { AeflowError } from '../errors.js';

/** parseArgs with aeflow's usage errors: an unknown flag names the command's help. */
export function parseCommand<T extends NonNullable<ParseArgsConfig['options']>>(command: string, argv: string[], options: T, usage: string) {
  try {
    return parseArgs({
      args: argv,
      options: { ...options, verbose: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
      allowPositionals: true,
      strict: true,
    });
  } catch (e) {
    throw new AeflowError('USAGE', `aeflow ${command}: ${(e as Error).message}`, `usage: ${usage}`);
  }
}

export function positiveInt(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new AeflowError('USAGE', `${name} must be a whole number >= 1, got "${value}"`, `e.g. ${name} 2`);
  return n;
}
