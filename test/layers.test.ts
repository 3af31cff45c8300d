import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { repoRoot, tempDir } from './helpers.js';

const check = (src: string) => spawnSync(process.execPath, [path.join(repoRoot, 'scripts', 'check-layers.mjs'), src], { encoding: 'utf8' });

describe('scripts/check-layers.mjs', () => {
  const tmp = tempDir();
  afterAll(tmp.cleanup);

  it("passes on aeflow's own src/: every import points down", () => {
    const r = check(path.join(repoRoot, 'src'));
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });

  it('fails on an import that points up, type-only and dynamic ones included, and on a folder in no layer', () => {
    const src = path.join(tmp.dir, 'src');
    for (const dir of ['sinks', 'pipeline', 'cli', 'extras']) mkdirSync(path.join(src, dir), { recursive: true });
    writeFileSync(path.join(src, 'pipeline', 'train.ts'), 'export type Event = { type: string };\n');
    writeFileSync(path.join(src, 'sinks', 'log.ts'), "import type { Event } from '../pipeline/train.js';\nexport const x = (e: Event) => e;\n");
    writeFileSync(path.join(src, 'sinks', 'lazy.ts'), "export const load = () => import('../cli/main.js');\n");
    writeFileSync(path.join(src, 'cli', 'main.ts'), "import { x } from '../sinks/log.js';\nexport { x };\n");
    writeFileSync(path.join(src, 'extras', 'thing.ts'), 'export const y = 1;\n');
    const r = check(src);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('sinks/log.ts imports pipeline/train.js: sinks (layer 6) may not depend on pipeline (layer 9)');
    expect(r.stderr).toContain('sinks/lazy.ts imports cli/main.js');
    expect(r.stderr).toContain('"extras" is in no layer');
    // the downward import of cli/main.ts is fine
    expect(r.stderr).not.toContain('cli/main.ts imports');
  });
});
