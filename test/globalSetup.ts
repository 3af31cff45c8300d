import { execSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Integration tests run the compiled CLI and worker threads from dist/: building first means a test run never
 * tests the code of an older build without saying so.
 */
export default function buildDist(): void {
  execSync('npm run build --silent', { cwd: path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..'), stdio: 'inherit' });
}
