import { existsSync } from 'node:fs';
import path from 'node:path';
import { AeflowError } from '../errors.js';

/** A path as messages show it: relative to the working folder when inside it, else absolute. */
export function shown(file: string, cwd = process.cwd()): string {
  const relative = path.relative(cwd, path.resolve(cwd, file));
  return relative === '' ? '.' : relative.startsWith('..') || path.isAbsolute(relative) ? path.resolve(cwd, file) : relative;
}

/**
 * aeflow's one overwrite policy: what a command would write over stays unless it was given --force, and the
 * error says so. `existing` are the outputs that are already there (described by `what` when given, e.g. a folder
 * that holds files); `force` says what --force would do, `instead` the way out without it.
 */
export function refuseOverwrite(existing: readonly string[], force: boolean, hint: { force: string; instead: string; what?: string }): void {
  if (force || existing.length === 0) return;
  const names = existing.map((f) => shown(f));
  const list = names.length === 1 ? names[0] : `${names.slice(0, -1).join(', ')} and ${names[names.length - 1]}`;
  throw new AeflowError(
    'OUTPUT_EXISTS',
    `${list} ${hint.what ?? (names.length === 1 ? 'already exists' : 'already exist')}; aeflow overwrites nothing without --force`,
    `add --force to ${hint.force}, or ${hint.instead}`,
  );
}

/** Those of `files` that exist. */
export function existing(files: readonly string[]): string[] {
  return files.filter((f) => existsSync(f));
}
