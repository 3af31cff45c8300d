import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../helpers.js';

/**
 * The contributor documents quote the code they explain; this test fails when the code moves on without them.
 *
 * - A fenced code block whose first line is a comment naming a repository file (`// src/stages/noise.ts`, or
 *   `# pipelines/mnist.yaml`) quotes that file: each non-empty line of the block must be a line of the file
 *   (leading whitespace aside), in the file's order. A line `// …` (or `# …`) stands for lines left out.
 * - A ```ts block must name its file that way: TypeScript in these documents is always a quotation.
 * - Every repository path in backticks (inline code, and fenced blocks that quote nothing) exists. A repository
 *   path starts at the repository's root (`src/…`, `test/…`, `bench/…`…); `stages/noise.ts` is refused, so that
 *   every path can be checked. Paths of a run folder (`RUN/model`, `metrics.jsonl`) are not repository paths.
 * - Relative Markdown links point at files that exist.
 */

/** Top-level folders of the repository: a backticked path starting with one of them is checked. */
const ROOT_FOLDERS = new Set(['src', 'test', 'scripts', 'bench', 'docs', 'native', 'pipelines', 'config', '.ci', 'dist']);
/** Built only where a C++ compiler is: not checked. */
const OPTIONAL = ['native/build/'];
/** Files named without a folder must be at the root (README.md, vitest.config.ts); a bare `.ts` is an extension. */
const ROOT_FILE = /^[\w-][\w.-]*\.(ts|mjs|md|wat|cc)$/;
const ELISION = /^(\/\/|#) …$/;
const TAG = /^(?:\/\/|#) (\S+)$/;

interface Block {
  /** The info string after the fence (`ts`, `js`, `yaml`, `text`…). */
  readonly info: string;
  /** 1-based line of the opening fence. */
  readonly line: number;
  readonly lines: readonly string[];
}

interface Markdown {
  readonly blocks: readonly Block[];
  /** The lines outside fenced blocks, with their 1-based numbers. */
  readonly prose: ReadonlyArray<{ line: number; text: string }>;
}

function parse(text: string): Markdown {
  const blocks: Block[] = [];
  const prose: Array<{ line: number; text: string }> = [];
  let open: { fence: string; info: string; line: number; lines: string[] } | null = null;
  text.split('\n').forEach((line, i) => {
    const fence = /^\s*(`{3,}|~{3,})\s*(\S*)/.exec(line);
    if (open) {
      if (fence?.[1].startsWith(open.fence) && fence[2] === '') {
        blocks.push({ info: open.info, line: open.line, lines: open.lines });
        open = null;
      } else {
        open.lines.push(line);
      }
    } else if (fence) {
      open = { fence: fence[1], info: fence[2], line: i + 1, lines: [] };
    } else {
      prose.push({ line: i + 1, text: line });
    }
  });
  if (open) throw new Error(`a code block opened at line ${(open as { line: number }).line} is never closed`);
  return { blocks, prose };
}

/** The repository file a block quotes, or null. */
function quotedFile(block: Block): string | null {
  const tag = TAG.exec(block.lines[0]?.trim() ?? '');
  return tag && isRepositoryPath(tag[1]) ? tag[1] : null;
}

function isRepositoryPath(token: string): boolean {
  return token.includes('/') && ROOT_FOLDERS.has(token.split('/')[0]);
}

/**
 * What is wrong with the quotations of a document: lines the quoted file does not have, or has in another order.
 * `read` gives a repository file's text, or null when there is no such file.
 */
function quoteProblems(doc: string, text: string, read: (file: string) => string | null): string[] {
  const problems: string[] = [];
  for (const block of parse(text).blocks) {
    const where = `${doc}:${block.line}`;
    const file = quotedFile(block);
    if (!file) {
      if (block.info === 'ts') problems.push(`${where}: a ts block must start with a line \`// <file it quotes>\``);
      continue;
    }
    const source = read(file);
    if (source === null) {
      problems.push(`${where}: quotes ${file}, which does not exist`);
      continue;
    }
    const lines = source.split('\n').map((l) => l.trimStart());
    let at = 0;
    for (const quoted of block.lines.slice(1)) {
      const want = quoted.trimStart();
      if (want.trim() === '' || ELISION.test(want.trim())) continue;
      const found = lines.indexOf(want, at);
      if (found >= 0) {
        at = found + 1;
        continue;
      }
      problems.push(`${where}: ${file} ${lines.includes(want) ? 'has this line earlier than the lines quoted before it' : 'has no line'}: ${want}`);
    }
  }
  return problems;
}

/** The tokens of a piece of inline code or an unquoting block, without the punctuation around them. */
function tokens(code: string): string[] {
  return code
    .split(/\s+/)
    .map((t) => t.replace(/^[(["']+/, '').replace(/[)\]"',.;:]+$/, ''))
    .filter(Boolean);
}

/**
 * What is wrong with the paths a document names: repository paths that do not exist, source paths not written
 * from the root, links to nothing. `exists` tells whether a path relative to the repository root exists.
 */
function pathProblems(doc: string, text: string, exists: (file: string) => boolean, srcFolders: ReadonlySet<string>): string[] {
  const problems: string[] = [];
  const { blocks, prose } = parse(text);
  const check = (token: string, where: string) => {
    if (/^[a-z]+:\/\//.test(token) || OPTIONAL.some((p) => token.startsWith(p))) return;
    const first = token.split('/')[0];
    if (isRepositoryPath(token)) {
      // A pattern (`src/models/tensors/<type>.ts`, `part-*.csv`): its folder must exist.
      const pattern = token.search(/[*<{]/);
      const file = pattern < 0 ? token : token.slice(0, token.lastIndexOf('/', pattern) + 1);
      if (!exists(file)) problems.push(`${where}: \`${token}\` does not exist`);
    } else if (token.includes('/') && srcFolders.has(first)) {
      problems.push(`${where}: \`${token}\`: write it from the repository root (src/${token})`);
    } else if (!token.includes('/') && ROOT_FILE.test(token) && !exists(token)) {
      problems.push(`${where}: \`${token}\` is no file at the repository root (write the path from the root)`);
    }
  };
  for (const { line, text: lineText } of prose) {
    const where = `${doc}:${line}`;
    if ((lineText.match(/`/g) ?? []).length % 2 === 1) problems.push(`${where}: inline code runs across lines (keep it on one line, so its paths are checked)`);
    for (const m of lineText.matchAll(/`([^`]+)`/g)) for (const t of tokens(m[1])) check(t, where);
    for (const m of lineText.matchAll(/\]\(([^)\s]+)\)/g)) {
      const target = m[1].split('#')[0];
      if (target === '' || /^[a-z]+:/.test(target)) continue;
      const file = path.posix.normalize(path.posix.join(path.posix.dirname(doc), target));
      if (!exists(file)) problems.push(`${where}: the link to ${m[1]} points at nothing`);
    }
  }
  for (const block of blocks) {
    if (quotedFile(block)) continue;
    block.lines.forEach((l, i) => {
      for (const t of tokens(l)) check(t, `${doc}:${block.line + 1 + i}`);
    });
  }
  return problems;
}

const readRepo = (file: string): string | null => {
  const p = path.join(repoRoot, file);
  return existsSync(p) && statSync(p).isFile() ? readFileSync(p, 'utf8') : null;
};
const existsInRepo = (file: string) => existsSync(path.join(repoRoot, file));
const srcFolders = new Set(readdirSync(path.join(repoRoot, 'src')).filter((n) => statSync(path.join(repoRoot, 'src', n)).isDirectory()));

describe('the contributor documents', () => {
  for (const doc of ['docs/architecture.md', 'CONTRIBUTING.md']) {
    const text = readFileSync(path.join(repoRoot, doc), 'utf8');

    it(`${doc}: every quoted line is in the file it names, in the file's order`, () => {
      expect(quoteProblems(doc, text, readRepo)).toEqual([]);
    });

    it(`${doc}: every repository path it names exists`, () => {
      expect(pathProblems(doc, text, existsInRepo, srcFolders)).toEqual([]);
    });
  }

  it('docs/architecture.md quotes the code of its worked examples (a stage, a model, a source)', () => {
    const quoted = new Set(parse(readFileSync(path.join(repoRoot, 'docs/architecture.md'), 'utf8')).blocks.map(quotedFile));
    for (const file of [
      'src/operators/addNoise.ts',
      'src/stages/noise.ts',
      'src/stages/builtins.ts',
      'test/operators/addNoise.test.ts',
      'src/models/variationalAutoencoder.ts',
      'src/models/layers.ts',
      'src/models/builtins.ts',
      'src/models/tensors/variationalAutoencoder.ts',
      'src/models/tensors/build.ts',
      'src/sources/csv.ts',
      'src/sources/byteSource.ts',
      'src/sources/movies.ts',
      'src/cli/data.ts',
    ]) {
      expect(quoted.has(file), file).toBe(true);
    }
  });
});

describe('the check itself', () => {
  const files: Record<string, string> = { 'src/a.ts': 'export function f(): number {\n  return 1;\n}\n\nexport const g = 2;\n' };
  const read = (file: string) => files[file] ?? null;
  const fence = '```';

  it('passes a faithful quotation, indented differently and with lines left out', () => {
    const doc = `${fence}ts\n// src/a.ts\nexport function f(): number {\n    return 1;\n// …\nexport const g = 2;\n${fence}\n`;
    expect(quoteProblems('doc.md', doc, read)).toEqual([]);
  });

  it('fails on a changed line, on lines out of order, on a missing file and on an untagged ts block', () => {
    const changed = `${fence}ts\n// src/a.ts\nexport function f(): number {\n  return 2;\n${fence}\n`;
    expect(quoteProblems('doc.md', changed, read)).toEqual(['doc.md:1: src/a.ts has no line: return 2;']);
    const reordered = `${fence}ts\n// src/a.ts\nexport const g = 2;\nreturn 1;\n${fence}\n`;
    expect(quoteProblems('doc.md', reordered, read)).toEqual(['doc.md:1: src/a.ts has this line earlier than the lines quoted before it: return 1;']);
    const missing = `${fence}ts\n// src/b.ts\nexport const b = 1;\n${fence}\n`;
    expect(quoteProblems('doc.md', missing, read)).toEqual(['doc.md:1: quotes src/b.ts, which does not exist']);
    expect(quoteProblems('doc.md', `${fence}ts\nconst x = 1;\n${fence}\n`, read)).toEqual([
      'doc.md:1: a ts block must start with a line `// <file it quotes>`',
    ]);
  });

  it('fails on a path that does not exist, a source path not from the root, and a link to nothing', () => {
    const exists = (file: string) => file === 'src/a.ts' || file === 'src/' || file === 'README.md';
    const folders = new Set(['stages']);
    const doc = [
      'See `src/a.ts`, `src/`, `README.md`, `RUN/model/anomaly.json` and `metrics.jsonl`.',
      'But `src/b.ts` and `node scripts/gone.mjs` and `stages/noise.ts` and `NOTES.md`, [here](docs/x.md).',
      `${fence}text`,
      'reader (src/c.ts)',
      fence,
    ].join('\n');
    expect(pathProblems('doc.md', doc, exists, folders)).toEqual([
      'doc.md:2: `src/b.ts` does not exist',
      'doc.md:2: `scripts/gone.mjs` does not exist',
      'doc.md:2: `stages/noise.ts`: write it from the repository root (src/stages/noise.ts)',
      'doc.md:2: `NOTES.md` is no file at the repository root (write the path from the root)',
      'doc.md:2: the link to docs/x.md points at nothing',
      'doc.md:4: `src/c.ts` does not exist',
    ]);
  });
});
