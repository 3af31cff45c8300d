import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { refuseOverwrite } from './overwrite.js';

/** A folder that is absent or empty: a run may take it without overwriting anything. */
export function isFree(dir: string): boolean {
  return !existsSync(dir) || readdirSync(dir).length === 0;
}

/**
 * The folder a run writes to, chosen but not created: the run creates it when training starts, so a run that
 * fails before any work leaves nothing behind and does not take a name. Without `--out`, `runs/<name>`, or the
 * next free `runs/<name>-2`, `-3`… so an earlier run is never overwritten. An explicit folder that already holds
 * files needs `force`.
 */
export function runFolder(name: string, out: string | undefined, force: boolean, cwd = process.cwd()): string {
  if (out) {
    const dir = path.resolve(cwd, out);
    refuseOverwrite(isFree(dir) ? [] : [dir], force, {
      what: 'already holds files (an earlier run?)',
      force: 'write the run into it anyway',
      instead: 'choose another --out (without --out, a run takes the next free runs/<name>-N)',
    });
    return dir;
  }
  const base = path.resolve(cwd, 'runs', name);
  let dir = base;
  for (let n = 2; !isFree(dir); n++) dir = `${base}-${n}`;
  return dir;
}
