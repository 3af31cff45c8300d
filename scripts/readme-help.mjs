// Writes what `aeflow --help` prints into README's CLI section, between its two markers (build first).
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const readme = `${root}README.md`;
const begin = '<!-- aeflow --help (node scripts/readme-help.mjs writes it; a test fails when it differs) -->';
const end = '<!-- end of aeflow --help -->';
const help = execFileSync(process.execPath, [`${root}dist/cli/main.js`, '--help'], { encoding: 'utf8' });
const text = readFileSync(readme, 'utf8');
const from = text.indexOf(begin);
const to = text.indexOf(end);
if (from === -1 || to < from) throw new Error(`README.md: no block between "${begin}" and "${end}"`);
writeFileSync(readme, `${text.slice(0, from + begin.length)}\n\`\`\`\n${help.trimEnd()}\n\`\`\`\n${text.slice(to)}`);
console.log('README.md: wrote the output of aeflow --help');
