import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { repoRoot } from '../helpers.js';

/** Runs the compiled CLI as a user would; returns exit code and output. */
export function aeflow(args: string[], cwd = repoRoot, env: Record<string, string> = {}): { code: number; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, [path.join(repoRoot, 'dist', 'cli', 'main.js'), ...args], {
    cwd,
    encoding: 'utf8',
    timeout: 120_000,
    env: { ...process.env, ...env },
  });
  return { code: result.status ?? -1, stdout: result.stdout, stderr: result.stderr };
}
