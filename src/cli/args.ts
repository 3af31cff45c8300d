import { existsSync } from 'node:fs';
import path from 'node:path';
import { type ParseArgsConfig, parseArgs } from 'node:util';
import type { BackendChoice } from '../backend.js';
import type { RunSettings } from '../config/runSettings.js';
import { AeflowError } from '../errors.js';
import { type DataSource, defaultCacheDir } from '../pipeline/dataflow.js';
import { BACKENDS, BAD_ROW_POLICIES, type CommandName, commands, commonOptions, type OptionSpec } from './commands.js';
import { commandHelp, usage } from './help.js';

type ParseArgsOptionsConfig = NonNullable<ParseArgsConfig['options']>;

/** The values parseArgs gives for a command's options, typed from its definition. */
export type OptionValues<O> = {
  -readonly [K in keyof O]?: O[K] extends { type: 'boolean' } ? boolean : O[K] extends { multiple: true } ? string[] : string;
} & { verbose?: boolean; help?: boolean };

function parseOptions(specs: Readonly<Record<string, OptionSpec>>): ParseArgsOptionsConfig {
  const options: ParseArgsOptionsConfig = {};
  for (const [name, o] of Object.entries(specs)) options[name] = { type: o.type, multiple: o.multiple === true, ...(o.short ? { short: o.short } : {}) };
  return options;
}

/** A USAGE error for `aeflow <command>`, its hint the command's usage. */
export function usageError(command: CommandName, message: string): AeflowError {
  return new AeflowError('USAGE', message, `${usage(command, 'usage: ')}\n(aeflow ${command} --help describes every option)`);
}

/**
 * Parses a command's arguments against its definition in commands.ts. With --help it prints the command's help
 * and returns null: the command then exits 0.
 */
export function parseCommand<N extends CommandName>(
  command: N,
  argv: string[],
): { values: OptionValues<(typeof commands)[N]['options']>; positionals: string[] } | null {
  let parsed: ReturnType<typeof parseArgs>;
  try {
    const options = { ...parseOptions(commands[command].options), ...parseOptions(commonOptions) };
    parsed = parseArgs({ args: argv, options, allowPositionals: true, strict: true });
  } catch (e) {
    throw usageError(command, `aeflow ${command}: ${(e as Error).message}`);
  }
  if (parsed.values.help) {
    console.log(commandHelp(command));
    return null;
  }
  return { values: parsed.values as OptionValues<(typeof commands)[N]['options']>, positionals: parsed.positionals };
}

export function positiveInt(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new AeflowError('USAGE', `${name} must be a whole number >= 1, got "${value}"`, `e.g. ${name} 2`);
  return n;
}

/** `--backend`, the same check in every command that takes it. */
export function backendFlag(value: string | undefined): BackendChoice | undefined {
  if (value === undefined) return undefined;
  if (!(BACKENDS as readonly string[]).includes(value)) throw new AeflowError('USAGE', `--backend ${value}: unknown backend`, `choose ${BACKENDS.join(', ')}`);
  return value as BackendChoice;
}

/** `--workers N|auto`. */
export function workersFlag(value: string | undefined): number | 'auto' | undefined {
  return value === 'auto' ? 'auto' : positiveInt('--workers', value);
}

/**
 * The model folder (holding encoder/, decoder/, autoencoder/) that `--model` names: a run folder stands for its
 * model/, as README writes `RUN/model`. Anything else is returned as given, for the caller to check.
 */
export function modelFolder(given: string): string {
  if (!existsSync(given)) {
    throw new AeflowError(
      'MODEL_NOT_FOUND',
      `--model ${given}: no such file or folder`,
      'pass a run folder or its model folder (e.g. runs/mnist or runs/mnist/model)',
    );
  }
  const inRun = path.join(given, 'model');
  return !existsSync(path.join(given, 'encoder', 'model.json')) && existsSync(path.join(inRun, 'encoder', 'model.json')) ? inRun : given;
}

/** The data flags encode and evaluate share, each defaulting to what the run's pipeline.yaml used. */
export function dataFlags(
  values: { scale?: string; 'label-column'?: string; 'on-bad-row'?: string },
  run: RunSettings,
): { scale: number | null; labelColumn: string | number | null; labelGiven: boolean; onBadRow: 'error' | 'skip' } {
  const scale = values.scale === undefined ? run.scale : values.scale === 'none' ? null : Number(values.scale);
  if (scale !== null && !(scale > 0)) throw new AeflowError('USAGE', `--scale ${values.scale}: expected a positive number or none`, 'e.g. --scale 255');
  const label = values['label-column'];
  const labelColumn = label === undefined ? run.labelColumn : label === 'none' ? null : /^\d+$/.test(label) ? Number(label) : label;
  const onBadRow = values['on-bad-row'] ?? run.onBadRow;
  if (!(BAD_ROW_POLICIES as readonly string[]).includes(onBadRow)) {
    throw new AeflowError('USAGE', `--on-bad-row ${onBadRow}: expected ${BAD_ROW_POLICIES.join(' or ')}`, 'e.g. --on-bad-row skip');
  }
  return { scale, labelColumn, labelGiven: label !== undefined, onBadRow: onBadRow as 'error' | 'skip' };
}

/** The cache's size bound for commands that read through it, as a pipeline's default `cache.max_size_mb`. */
const CACHE_BYTES = 4096 * 1024 * 1024;

/**
 * How encode, evaluate and score read a CSV: the data flags, the fast reader, and the row cache in the working
 * folder. `writeCache: false` for a single pass, which reads a cache training left but gains nothing from making one.
 */
export function inputSettings(
  flags: { labelColumn: string | number | null; scale: number | null; onBadRow: 'error' | 'skip' },
  header: boolean,
  writeCache: boolean,
): Omit<DataSource, 'file' | 'columns' | 'preprocessing'> {
  const cache = { dir: defaultCacheDir(), maxBytes: CACHE_BYTES, ...(writeCache ? {} : { write: false }) };
  return { header, labelColumn: flags.labelColumn, scale: flags.scale, onBadRow: flags.onBadRow, parser: 'fast', cache };
}
