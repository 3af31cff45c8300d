import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { AeflowError } from '../errors.js';

/**
 * The folder a run writes to. Without `--out`, `runs/<name>`, or the next free `runs/<name>-2`, `-3`… so an
 * earlier run is never overwritten. An explicit folder that already holds files needs `force`.
 */
export function runFolder(name: string, out: string | undefined, force: boolean, cwd = process.cwd()): string {
  if (out) {
    const dir = path.resolve(cwd, out);
    if (existsSync(dir) && readdirSync(dir).length > 0 && !force) {
      throw new AeflowError('USAGE', `${out} already holds files (an earlier run?)`, 'choose another --out, or add --force to write over it');
    }
    mkdirSync(dir, { recursive: true });
    return dir;
  }
  const base = path.resolve(cwd, 'runs', name);
  let dir = base;
  for (let n = 2; existsSync(dir) && readdirSync(dir).length > 0; n++) dir = `${base}-${n}`;
  mkdirSync(dir, { recursive: true });
  return dir;
}
