import path from 'node:path';
import { glob, isDynamicPattern } from 'tinyglobby';
import { AeflowError } from '../errors.js';

/** Whether a data path is a pattern of shards (`data/shards/*.csv`) rather than one file. */
export function isPattern(file: string): boolean {
  return file !== '-' && isDynamicPattern(file);
}

/** The files a pattern matches, in sorted order: the order their rows are read in. */
export async function shardFiles(pattern: string): Promise<string[]> {
  // Named as the pattern is written: tinyglobby gives paths relative to the working folder ("../x/a.csv" for
  // an absolute pattern elsewhere) unless asked for absolute ones.
  const files = (await glob(pattern, { onlyFiles: true, absolute: path.isAbsolute(pattern), expandDirectories: false })).sort();
  if (files.length === 0) {
    throw new AeflowError(
      'CSV_NOT_FOUND',
      `${pattern}: no file matches`,
      'check the pattern (quote it on the command line, so that aeflow expands it rather than the shell)',
    );
  }
  return files;
}
