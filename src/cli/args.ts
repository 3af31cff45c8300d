import { parseArgs, type ParseArgsConfig } from 'node:util';
import type { RunSettings } from '../config/runSettings.js';
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
  if (onBadRow !== 'error' && onBadRow !== 'skip') throw new AeflowError('USAGE', `--on-bad-row ${onBadRow}: expected error or skip`, 'e.g. --on-bad-row skip');
  return { scale, labelColumn, labelGiven: label !== undefined, onBadRow };
}
