import path from 'node:path';
import { clearCache, listCache } from '../sources/rowCache.js';
import { parseCommand, usageError } from './args.js';

/** `aeflow cache`: show or remove the binary row caches (default folder: .cache/aeflow). */
export async function cacheCommand(argv: string[]): Promise<number> {
  const args = parseCommand('cache', argv);
  if (!args) return 0;
  const { values, positionals } = args;
  const dir = path.resolve(values.dir ?? path.join('.cache', 'aeflow'));
  const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MB`;
  switch (positionals[0]) {
    case 'list': {
      const entries = await listCache(dir);
      for (const e of entries)
        console.log(`${e.key}  ${mb(e.bytes).padStart(10)}  ${String(e.rows).padStart(9)} rows  used ${e.used.toISOString()}  ${e.source}`);
      console.log(`${entries.length} cached file${entries.length === 1 ? '' : 's'}, ${mb(entries.reduce((n, e) => n + e.bytes, 0))} in ${dir}`);
      return 0;
    }
    case 'clear':
      console.log(`removed ${mb(await clearCache(dir))} of caches from ${dir}`);
      return 0;
    default:
      throw usageError('cache', 'aeflow cache needs list or clear');
  }
}
